//! Unsealing one value against a bare RSA-4096 OAEP decrypt, in one process.
//!
//! A sealed value is an RSA-OAEP(SHA-256) wrapped session key plus an AES-GCM payload
//! (docs/formats/sealed-secrets.md); the RSA private-key operation is nearly all of the cost, so
//! sealops's per-value overhead is how far `hybrid_decrypt` sits above aws-lc-rs's own
//! `OaepPrivateDecryptingKey::decrypt` on a key of the same size. The target: within
//! 1.2×. Timings only, no assertions (a shared 2-core machine is too noisy for that): medians of
//! `ROUNDS` rounds of `BATCH` operations each.
//!
//! Run: `cargo bench --bench sealed_unseal` (release build).

use std::hint::black_box;
use std::time::Instant;

use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use sealops::crypto::rsa::PrivateKey;
use sealops::sealed::scheme::{hybrid_decrypt, hybrid_encrypt};

const ROUNDS: usize = 15;
const BATCH: usize = 40;
const LABEL: &[u8] = b"demo/mysecret";

fn median_per_op(mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let mut per_op: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..BATCH {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / BATCH as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    per_op[per_op.len() / 2]
}

fn main() {
    // A bare aws-lc-rs RSA-4096 key, unwrapping a 32-byte session key as the scheme does.
    let bare = PrivateDecryptingKey::generate(KeySize::Rsa4096).expect("RSA-4096 key");
    let bare_public = OaepPublicEncryptingKey::new(bare.public_key()).expect("public key");
    let bare = OaepPrivateDecryptingKey::new(bare).expect("OAEP key");
    let mut wrapped = vec![0u8; bare_public.ciphertext_size()];
    let wrapped =
        bare_public.encrypt(&OAEP_SHA256_MGF1SHA256, &[7u8; 32], &mut wrapped, Some(LABEL)).expect("encrypt").to_vec();
    let mut out = vec![0u8; bare.min_output_size()];
    let bare_us = median_per_op(|| {
        black_box(bare.decrypt(&OAEP_SHA256_MGF1SHA256, black_box(&wrapped), &mut out, Some(LABEL)).expect("decrypt"));
    });

    // sealops: a 64-byte secret value sealed and unsealed with the scheme.
    let key = PrivateKey::generate(4096).expect("RSA-4096 key");
    let value = [b'x'; 64];
    let sealed = hybrid_encrypt(key.public_key(), &value, LABEL).expect("seal");
    let ours_us = median_per_op(|| {
        black_box(hybrid_decrypt([&key], black_box(&sealed), LABEL).expect("unseal"));
    });
    let seal_us = median_per_op(|| {
        black_box(hybrid_encrypt(key.public_key(), black_box(&value), LABEL).expect("seal"));
    });

    println!("RSA-4096, medians of {ROUNDS} rounds of {BATCH} operations");
    println!("bare aws-lc-rs OAEP decrypt   {bare_us:9.1} µs/op");
    println!("sealops unseal (one value)    {ours_us:9.1} µs/op   ratio {:.3}x (target <= 1.2x)", ours_us / bare_us);
    println!("sealops seal (one value)      {seal_us:9.1} µs/op");
}
