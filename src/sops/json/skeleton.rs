//! A JSON file as its output *skeleton*: the text the JSON store would write for it, with a hole
//! where each value goes, plus the list of those values ("leaves") as places in the input.
//!
//! This is what lets `decrypt` and `encrypt` of a whole JSON file skip the tree (see
//! [`crate::sops::stream`]). Building the tree costs an allocation per key and per value and a
//! copy of every `ENC[…]`, then a wipe and a free of each: for a 10,000-value file that was more
//! than the cryptography (`tests/bench/README.md`, "JSON"). Here the input is read once, every
//! value stays where it is in the input, and the fixed text (indentation, keys, punctuation) is
//! written as it goes by. [`Skeleton::fill`] then turns the leaves into their output text in
//! chunks on all cores, and hands the bytes each leaf puts into the MAC to one hasher in
//! document order.
//!
//! The walk is the tree path's, in a different form: a leaf's AAD is the keys of its path joined
//! by `:` (list elements add nothing), `null` is not a leaf, and the text around the leaves is
//! [`Writer`]'s layout. The scanner only accepts what it can handle exactly like the tree path:
//! anything else (invalid JSON, invalid UTF-8, nesting past the limit, two `sops` entries) gives
//! `None`, and the caller falls back to the tree, which also reports the error.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sha2::{Digest, Sha512};
use zeroize::{Zeroize, Zeroizing};

use super::{JsonStore, Parser, Writer, write_go_string};
use crate::crypto::SecretBytes;
use crate::crypto::secret::reserve_wiping;
use crate::pages::PageVec;
use crate::sops::metadata::SOPS_KEY;
use crate::sops::rules::Selection;
use crate::sops::store::{Limits, check_size};
use crate::sops::tree::{Scalar, Value};

/// A value of the input, as [`Skeleton::token`] gives it.
pub(in crate::sops) enum Token<'s> {
    /// A string: its text between the quotes, and whether that has escapes to decode.
    Str { text: Range<usize>, escaped: bool },
    /// A number or a boolean, already parsed.
    Scalar(&'s Scalar),
}

// A skeleton holds a leaf for every value and a node for every key of the file, so their size
// is the skeleton's: at 56 bytes each (`usize` places, a `Scalar` inline, a `Cow` key), the
// leaves and nodes of the benchmark's 10,000-value file took 270 pages, each a page fault
// (`tests/bench/README.md`, "JSON"). Places are `u32` (a larger file goes to the tree path),
// numbers sit in a side table, and a key is read back from its node's AAD.

/// A place in the input, in the skeleton's text, or in its AADs.
type Pos = u32;

/// A node's parent when it has none.
const NO_PARENT: Pos = Pos::MAX;

/// A value of the input, as stored.
#[derive(Clone, Copy)]
enum Stored {
    Str {
        start: Pos,
        end: Pos,
        escaped: bool,
    },
    /// An index in [`Skeleton::scalars`].
    Scalar(Pos),
}

/// One value and where its output goes.
#[derive(Clone, Copy)]
pub(in crate::sops) struct Leaf {
    /// Where in the skeleton the value's text goes.
    hole: Pos,
    /// The key it sits under (its path).
    node: Pos,
    token: Stored,
}

/// A key on some value's path: each key of the input is one node, pointing at the key of the
/// map that holds it.
#[derive(Clone, Copy)]
struct Node {
    /// [`NO_PARENT`] at the top level.
    parent: Pos,
    /// The AAD of the values under it is `aads[aad..end]`: the parent's AAD, this key, and
    /// `:`. The key (decoded) is `aads[key..end - 1]`.
    aad: Pos,
    key: Pos,
    end: Pos,
}

impl Node {
    fn aad(&self) -> Range<usize> {
        self.aad as usize..self.end as usize
    }

    fn key(&self) -> Range<usize> {
        self.key as usize..self.end as usize - 1
    }
}

/// `n` as a [`Pos`]; `None` (use the tree path) past 4 GiB.
fn pos(n: usize) -> Option<Pos> {
    Pos::try_from(n).ok()
}

/// The text of a value: borrowed from the input, or made from it (a string's decoded escapes,
/// a number's text form).
pub(in crate::sops) enum Text<'a> {
    Input(&'a str),
    /// May be plaintext, so wiped.
    Owned(Zeroizing<Vec<u8>>),
}

impl std::ops::Deref for Text<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Text::Input(text) => text.as_bytes(),
            Text::Owned(bytes) => bytes,
        }
    }
}

impl Text<'_> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Text::Input(text) => Some(text),
            Text::Owned(bytes) => std::str::from_utf8(bytes).ok(),
        }
    }
}

pub(in crate::sops) struct Skeleton<'a> {
    input: Halves<'a>,
    /// The scanner's parser as it started, for decoding escaped strings later.
    parser: Parser<'a>,
    text: Vec<u8>,
    leaves: Vec<Leaf>,
    /// The numbers and booleans among the leaves.
    scalars: Vec<Scalar>,
    nodes: Vec<Node>,
    aads: Vec<u8>,
    /// Whether the values under each node are encrypted ([`Skeleton::select`]).
    encrypted: Vec<bool>,
    /// The value of the top-level `sops` entry (left out of the skeleton).
    sops: Option<Value>,
    /// How many entries of the top-level map are in the skeleton.
    top_entries: usize,
}

/// Leaves per chunk of work: large enough that handing chunks around costs nothing, small
/// enough that the MAC hashing can follow the decryption closely.
const CHUNK: usize = 256;

/// Below this many leaves, threads cost more than they save.
const PARALLEL_MIN: usize = 512;

impl JsonStore {
    /// Scans a JSON file into its skeleton, laid out with this store's indentation. `encrypted`
    /// reads numbers as [`JsonStore`]'s `load_encrypted` does. `None` for anything the skeleton
    /// does not handle the way the tree path does; the caller then takes the tree path.
    ///
    /// A large file is scanned by two threads, split at a top-level member (see [`split`]).
    pub(in crate::sops) fn skeleton<'a>(&self, input: &'a [u8], encrypted: bool) -> Option<Skeleton<'a>> {
        let limits = Limits::default();
        check_size(input, &limits).ok()?;
        let parser = Parser {
            input,
            pos: 0,
            depth: 0,
            max_depth: limits.max_depth,
            negative_zero_is_float: encrypted,
            utf8: true,
        };
        if input.len() >= PARALLEL_SCAN_MIN
            && let Some(at) = split(input)
            && let Some(skeleton) = self.scan_in_halves(parser, at)
        {
            return Some(skeleton);
        }
        let whole = std::str::from_utf8(input).ok()?;
        let mut scan = self.scanner(parser, Halves { first: whole, at: input.len(), second: "" }, input.len());
        scan.document()?;
        Some(scan.finish())
    }

    /// A scanner for `input` (of which `length` bytes are its to scan).
    fn scanner<'a>(&self, parser: Parser<'a>, input: Halves<'a>, length: usize) -> Scan<'a> {
        // Reserved from the input's size, so that they rarely grow (each growth copied them):
        // in typical files an entry takes at least this much input text. Pages never written
        // cost nothing.
        const ENTRY_TEXT: usize = 64;
        let entries = length / ENTRY_TEXT;
        Scan {
            parser,
            writer: Writer { out: Vec::with_capacity(length / 4), indent: self.indent() },
            stop: None,
            stopped: false,
            skeleton: Skeleton {
                input,
                parser,
                text: Vec::new(),
                leaves: Vec::with_capacity(entries),
                scalars: Vec::new(),
                nodes: Vec::with_capacity(entries),
                aads: Vec::with_capacity(length / 4),
                encrypted: Vec::new(),
                sops: None,
                top_entries: 0,
            },
        }
    }

    /// Scans the input up to the top-level comma at `at` on this thread and from it on
    /// another. `None` if the comma turns out not to be a top-level one, or for anything the
    /// scan gives up on; the caller then scans the whole input on one thread.
    fn scan_in_halves<'a>(&self, parser: Parser<'a>, at: usize) -> Option<Skeleton<'a>> {
        let (first, second) = parser.input.split_at(at);
        // A split at an ASCII byte leaves both halves valid UTF-8 exactly when the whole is.
        let rest = || {
            let second = std::str::from_utf8(second).ok()?;
            let mut scan = self.scanner(Parser { pos: at, ..parser }, Halves { first: "", at, second }, second.len());
            // The comma, then the members after it, as the loop that wrote at least one
            // before it would go on.
            scan.eat(b',').then_some(())?;
            let entries = scan.members(None, 0, 1)?;
            let mut skeleton = scan.finish();
            skeleton.top_entries = entries - 1;
            Some(skeleton)
        };
        let (head, tail) = std::thread::scope(|scope| {
            let tail = scope.spawn(rest);
            let head = std::str::from_utf8(first).ok().and_then(|first| {
                let mut scan = self.scanner(parser, Halves { first, at, second: "" }, parser.input.len());
                scan.stop = Some(at);
                scan.document()?;
                scan.stopped.then(|| scan.finish())
            });
            (head, tail.join().ok().flatten())
        });
        let mut head = head?;
        head.append(tail?)?;
        Some(head)
    }
}

/// Inputs at least this large are scanned by two threads.
const PARALLEL_SCAN_MIN: usize = 256 << 10;

/// Where a second thread could start scanning: a comma that ends a top-level member near the
/// middle of the input, found by the layout alone. Files written by sops, or by any JSON
/// printer, indent the top-level keys all alike, one per line; the first key shows how. The
/// guess is checked: the first thread only stops at the comma if its own scan reaches it at
/// the top level (so it cannot be inside a string or a nested value).
fn split(input: &[u8]) -> Option<usize> {
    let non_space = |b: u8| !matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let open = crate::sops::scan::position(input, non_space)?;
    (input.get(open) == Some(&b'{')).then_some(())?;
    let body = input.get(open + 1..)?;
    let indent = body.get(..crate::sops::scan::position(body, non_space)?)?;
    // A file on one line has no layout to go by.
    if !indent.contains(&b'\n') {
        return None;
    }
    let mut from = input.len() / 2;
    // Give up after a quarter of the file: a split far from the middle saves little.
    while from < input.len() / 4 * 3 {
        let newline = from + crate::sops::scan::position(input.get(from..)?, |b| b == b'\n')?;
        let comma = newline.checked_sub(indent.iter().position(|&b| b == b'\n')? + 1)?;
        if input.get(comma) == Some(&b',')
            && input.get(comma + 1..)?.starts_with(indent)
            && input.get(comma + 1 + indent.len()) == Some(&b'"')
        {
            return Some(comma);
        }
        from = newline + 1;
    }
    None
}

/// The input as valid UTF-8, in up to two halves: `first` from the start, `second` from
/// byte `at`. A token never straddles `at`, which is a top-level comma.
#[derive(Clone, Copy)]
struct Halves<'a> {
    first: &'a str,
    at: usize,
    second: &'a str,
}

impl<'a> Halves<'a> {
    fn get(&self, range: Range<usize>) -> Option<&'a str> {
        if range.end <= self.first.len() {
            self.first.get(range)
        } else {
            self.second.get(range.start.checked_sub(self.at)?..range.end - self.at)
        }
    }
}

/// The scanner: a [`Parser`] for the input, a [`Writer`] for the skeleton.
struct Scan<'a> {
    parser: Parser<'a>,
    writer: Writer,
    /// A top-level comma to stop at (where another thread goes on), and whether it did.
    stop: Option<usize>,
    stopped: bool,
    skeleton: Skeleton<'a>,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.parser.peek()
    }

    /// Skips whitespace and consumes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        self.parser.skip_ws();
        let found = self.peek() == Some(byte);
        if found {
            self.parser.pos += 1;
        }
        found
    }

    fn enter(&mut self, depth: usize) -> Option<()> {
        (depth < self.parser.max_depth).then_some(())
    }

    fn document(&mut self) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        // sops stops after the top-level object, and so does this.
        self.object(None, 0)
    }

    /// An object whose `{` has been consumed, under `node`. The top-level object (`node` is
    /// `None`) is left open: what closes it depends on the caller.
    fn object(&mut self, node: Option<Pos>, depth: usize) -> Option<()> {
        self.enter(depth)?;
        self.writer.out.push(b'{');
        let entries = if self.eat(b'}') { 0 } else { self.members(node, depth, 0)? };
        if node.is_none() {
            self.skeleton.top_entries = entries;
        } else {
            if entries > 0 {
                self.writer.newline(depth);
            }
            self.writer.out.push(b'}');
        }
        Some(())
    }

    /// An object's members from a key on, through its closing `}`, after `entries` members
    /// already written; gives how many it has in all. At the top level, a scan with a `stop`
    /// returns when it gets to that comma instead.
    fn members(&mut self, node: Option<Pos>, depth: usize, mut entries: usize) -> Option<usize> {
        let top = node.is_none();
        loop {
            if !self.eat(b'"') {
                return None;
            }
            let key = self.key()?;
            if !self.eat(b':') {
                return None;
            }
            if top && key == SOPS_KEY {
                if self.skeleton.sops.is_some() {
                    return None;
                }
                self.skeleton.sops = Some(self.parser.value().ok()?);
            } else {
                if entries > 0 {
                    self.writer.out.push(b',');
                }
                entries += 1;
                self.writer.newline(depth + 1);
                write_go_string(&mut self.writer.out, key.as_bytes());
                self.writer.out.extend_from_slice(b": ");
                let child = self.skeleton.push_node(node, key.as_bytes())?;
                self.value(child, depth + 1)?;
            }
            if top && self.stop.is_some() {
                self.parser.skip_ws();
                if self.stop == Some(self.parser.pos) {
                    self.stopped = true;
                    return Some(entries);
                }
            }
            if self.eat(b',') {
                continue;
            }
            if self.eat(b'}') {
                return Some(entries);
            }
            return None;
        }
    }

    /// The skeleton scanned.
    fn finish(self) -> Skeleton<'a> {
        Skeleton { text: self.writer.out, ..self.skeleton }
    }

    /// The elements of an array whose `[` has been consumed.
    fn array(&mut self, node: Pos, depth: usize) -> Option<()> {
        self.enter(depth)?;
        self.writer.out.push(b'[');
        if self.eat(b']') {
            self.writer.out.push(b']');
            return Some(());
        }
        let mut first = true;
        loop {
            if !first {
                self.writer.out.push(b',');
            }
            first = false;
            self.writer.newline(depth + 1);
            self.value(node, depth + 1)?;
            if self.eat(b',') {
                continue;
            }
            if self.eat(b']') {
                break;
            }
            return None;
        }
        self.writer.newline(depth);
        self.writer.out.push(b']');
        Some(())
    }

    fn value(&mut self, node: Pos, depth: usize) -> Option<()> {
        self.parser.skip_ws();
        match self.peek()? {
            b'{' => {
                self.parser.pos += 1;
                self.object(Some(node), depth)
            }
            b'[' => {
                self.parser.pos += 1;
                self.array(node, depth)
            }
            b'"' => {
                self.parser.pos += 1;
                let (text, escaped) = self.string()?;
                self.leaf(node, Stored::Str { start: pos(text.start)?, end: pos(text.end)?, escaped })
            }
            _ => match self.parser.value().ok()? {
                Value::Null => {
                    self.writer.out.extend_from_slice(b"null");
                    Some(())
                }
                Value::Scalar(scalar) => {
                    let index = pos(self.skeleton.scalars.len())?;
                    self.skeleton.scalars.push(scalar);
                    self.leaf(node, Stored::Scalar(index))
                }
                Value::Map(_) | Value::List(_) => None,
            },
        }
    }

    fn leaf(&mut self, node: Pos, token: Stored) -> Option<()> {
        self.skeleton.leaves.push(Leaf { hole: pos(self.writer.out.len())?, node, token });
        Some(())
    }

    /// Finds the end of a string whose opening quote has been consumed, without decoding it.
    fn string(&mut self) -> Option<(Range<usize>, bool)> {
        let start = self.parser.pos;
        let (end, escaped) = self.parser.string_end(start);
        (self.parser.input.get(end) == Some(&b'"')).then_some(())?;
        self.parser.pos = end + 1;
        Some((start..end, escaped))
    }

    /// A key whose opening quote has been consumed.
    fn key(&mut self) -> Option<Cow<'a, str>> {
        let start = self.parser.pos;
        let (text, escaped) = self.string()?;
        if !escaped {
            return self.skeleton.input.get(text).map(Cow::Borrowed);
        }
        let mut decoder = Parser { pos: start, ..self.parser };
        String::from_utf8(decoder.string().ok()?).ok().map(Cow::Owned)
    }
}

impl<'a> Skeleton<'a> {
    /// Appends the skeleton of the rest of the input, scanned from the top-level comma where
    /// this one stopped: its leaves, nodes and AADs follow this one's, as one scan would have
    /// numbered them.
    fn append(&mut self, rest: Skeleton<'a>) -> Option<()> {
        // The rest starts with the comma after this part's last member; with no member
        // before it (only `sops`), one scan would have written none. Rare: not handled here.
        if self.top_entries == 0 && rest.top_entries > 0 {
            return None;
        }
        if self.sops.is_some() && rest.sops.is_some() {
            return None;
        }
        let (text, nodes, aads, scalars) =
            (pos(self.text.len())?, pos(self.nodes.len())?, pos(self.aads.len())?, pos(self.scalars.len())?);
        // Every place in the whole must fit, not only each part's.
        pos(self.text.len() + rest.text.len())?;
        pos(self.aads.len() + rest.aads.len())?;
        pos(self.nodes.len() + rest.nodes.len())?;
        self.text.extend_from_slice(&rest.text);
        self.aads.extend_from_slice(&rest.aads);
        self.scalars.extend(rest.scalars);
        self.leaves.extend(rest.leaves.into_iter().map(|leaf| Leaf {
            hole: leaf.hole + text,
            node: leaf.node + nodes,
            token: match leaf.token {
                Stored::Scalar(index) => Stored::Scalar(index + scalars),
                string => string,
            },
        }));
        self.nodes.extend(rest.nodes.into_iter().map(|node| Node {
            parent: if node.parent == NO_PARENT { NO_PARENT } else { node.parent + nodes },
            aad: node.aad + aads,
            key: node.key + aads,
            end: node.end + aads,
        }));
        self.sops = self.sops.take().or(rest.sops);
        self.top_entries += rest.top_entries;
        self.input.second = rest.input.second;
        Some(())
    }

    fn push_node(&mut self, parent: Option<Pos>, key: &[u8]) -> Option<Pos> {
        let aad = pos(self.aads.len())?;
        if let Some(parent) = parent {
            let prefix = self.nodes.get(parent as usize)?.aad();
            self.aads.extend_from_within(prefix);
        }
        let key_at = pos(self.aads.len())?;
        self.aads.extend_from_slice(key);
        self.aads.push(b':');
        let index = pos(self.nodes.len())?;
        self.nodes.push(Node { parent: parent.unwrap_or(NO_PARENT), aad, key: key_at, end: pos(self.aads.len())? });
        Some(index)
    }

    /// The value of the top-level `sops` entry, if there was one.
    pub fn take_sops(&mut self) -> Option<Value> {
        self.sops.take()
    }

    pub fn has_sops(&self) -> bool {
        self.sops.is_some()
    }

    /// How many entries the output's top-level map has (the `sops` entry not counted).
    pub fn top_entries(&self) -> usize {
        self.top_entries
    }

    /// What closes the top-level map of a plaintext file, as [`Writer`] ends it.
    pub fn closing(&self) -> &'static [u8] {
        if self.top_entries > 0 { b"\n}\n" } else { b"}\n" }
    }

    /// Decides which leaves are encrypted under `rule`, as [`crate::sops::rules::should_encrypt`]
    /// does for each value of a JSON file (which has no comments). A rule on keys tests each
    /// key once: a value's path matches when its own key or an ancestor's does.
    pub fn select(&mut self, rule: Option<&Selection>) {
        let no_comments = crate::sops::rules::CommentStack::default();
        let every = |encrypted| vec![encrypted; self.nodes.len()];
        self.encrypted = match rule {
            Some(rule) => match rule.encrypts_matching_paths() {
                Some(encrypts_matches) => {
                    let mut matched: Vec<bool> = Vec::with_capacity(self.nodes.len());
                    for node in &self.nodes {
                        let above = node.parent != NO_PARENT && matched[node.parent as usize];
                        // Keys are decoded from valid UTF-8, and checked as they are.
                        let key = std::str::from_utf8(&self.aads[node.key()]).unwrap_or_default();
                        matched.push(above || rule.key_matches(key));
                    }
                    matched.into_iter().map(|m| m == encrypts_matches).collect()
                }
                None => every(crate::sops::rules::should_encrypt::<&str>(Some(rule), &[], &no_comments, false)),
            },
            None => every(true),
        };
    }

    pub fn is_encrypted(&self, leaf: &Leaf) -> bool {
        self.encrypted.get(leaf.node as usize).copied().unwrap_or(true)
    }

    pub fn aad(&self, leaf: &Leaf) -> &[u8] {
        &self.aads[self.nodes[leaf.node as usize].aad()]
    }

    /// A leaf's value.
    pub fn token(&self, leaf: &Leaf) -> Option<Token<'_>> {
        Some(match leaf.token {
            Stored::Str { start, end, escaped } => Token::Str { text: start as usize..end as usize, escaped },
            Stored::Scalar(index) => Token::Scalar(self.scalars.get(index as usize)?),
        })
    }

    /// A string leaf's text; `None` for an invalid escape (the tree path reports it).
    pub fn text(&self, text: &Range<usize>, escaped: bool) -> Option<Text<'a>> {
        if !escaped {
            return self.input.get(text.clone()).map(Text::Input);
        }
        Parser { pos: text.start, ..self.parser }.string().ok().map(|bytes| Text::Owned(Zeroizing::new(bytes)))
    }

    /// Room for the filled skeleton followed by `tail` bytes: what its leaves usually take
    /// ([`Leaf::text_estimate`]). Room that is never written costs nothing.
    pub fn output_room(&self, tail: usize) -> usize {
        let values: usize = self.leaves.iter().map(Leaf::text_estimate).sum();
        self.text.len() + values + tail
    }

    pub fn leaves(&self) -> &[Leaf] {
        &self.leaves
    }

    /// The length of the skeleton's own text.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Fills the holes: `fill` writes a leaf's output text to its first buffer and the bytes the
    /// MAC covers to its second, or gives `None` to give up (then so does this). Leaves are
    /// filled in chunks on all cores; the chunks' text is appended to `out` (made with
    /// [`Skeleton::output_room`]), and their MAC bytes given to `hasher`, in document order.
    /// Returns `out` with the skeleton, its holes filled, and `tail`. When it holds plaintext,
    /// `out` is a secret buffer, wiped also when this gives up halfway.
    pub fn fill<O, F>(&self, mut out: O, fill: F, hasher: Option<&mut Sha512>, tail: &[u8]) -> Option<O>
    where
        O: Output + Send,
        F: Fn(&Leaf, &mut Vec<u8>, &mut Vec<u8>) -> Option<()> + Sync,
    {
        let chunks = self.leaves.len().div_ceil(CHUNK);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut sink = Sink { out: &mut out, hasher };
        if threads < 2 || self.leaves.len() < PARALLEL_MIN {
            let mut chunk = Chunk::default();
            for index in 0..chunks {
                self.fill_chunk(index, &fill, &mut chunk)?;
                sink.take(&mut chunk);
            }
        } else {
            self.in_parallel(chunks, threads, &fill, sink)?;
        }
        out.append(self.text.get(self.leaves.last().map_or(0, |leaf| leaf.hole as usize)..)?);
        out.append(tail);
        Some(out)
    }

    /// Fills one chunk of leaves into `chunk`: for each leaf, the skeleton text before its hole,
    /// then its value.
    fn fill_chunk<F>(&self, index: usize, fill: &F, chunk: &mut Chunk) -> Option<()>
    where
        F: Fn(&Leaf, &mut Vec<u8>, &mut Vec<u8>) -> Option<()>,
    {
        let leaves = self.leaves.get(index * CHUNK..self.leaves.len().min((index + 1) * CHUNK))?;
        let from = match index {
            0 => 0,
            _ => self.leaves[index * CHUNK - 1].hole as usize,
        };
        let until = leaves.last().map_or(from, |leaf| leaf.hole as usize);
        // Room for what the leaves usually write, up front; then, before each leaf, room for
        // the most it can write, so that `fill` never grows a buffer (see [`Chunk::make_room`]).
        let text: usize = leaves.iter().map(Leaf::text_estimate).sum();
        let mac: usize = leaves.iter().map(Leaf::mac_bound).sum();
        chunk.make_room(until - from + text, mac);
        let mut at = from;
        for leaf in leaves {
            let before = self.text.get(at..leaf.hole as usize)?;
            chunk.make_room(before.len() + leaf.text_bound(), leaf.mac_bound());
            chunk.text.extend_from_slice(before);
            at = leaf.hole as usize;
            fill(leaf, &mut chunk.text, &mut chunk.mac)?;
        }
        Some(())
    }

    /// [`Skeleton::fill`] on `threads` threads, this one included. Each takes the next chunk,
    /// fills it, and hands it in; whichever thread holds the sink takes every chunk that is due,
    /// the others go on to their next chunk. No thread ever waits for another (on two cores,
    /// waiting for each chunk's turn cost a fifth of the time).
    fn in_parallel<F>(&self, chunks: usize, threads: usize, fill: &F, sink: Sink<'_>) -> Option<()>
    where
        F: Fn(&Leaf, &mut Vec<u8>, &mut Vec<u8>) -> Option<()> + Sync,
    {
        let next = AtomicUsize::new(0);
        let give_up = AtomicBool::new(false);
        let queue = Mutex::new(Queue {
            due: 0,
            waiting: (0..chunks).map(|_| None).collect(),
            spare: Vec::new(),
            sink: Some(sink),
        });
        let work = || {
            let mut chunk = Chunk::default();
            while !give_up.load(Ordering::Relaxed) {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= chunks {
                    break;
                }
                if self.fill_chunk(index, fill, &mut chunk).is_none() {
                    give_up.store(true, Ordering::Relaxed);
                    break;
                }
                chunk = Queue::hand_in(&queue, index, chunk);
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(work);
            }
            work();
        });
        let queue = queue.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        (!give_up.load(Ordering::Relaxed) && queue.due == chunks).then_some(())
    }
}

/// One chunk's output text and MAC bytes; both may hold plaintext.
///
/// A chunk's buffers are reused for chunk after chunk. [`Sink::take`] wipes the bytes a chunk
/// wrote as soon as it has taken them, while they are still in the cache, and a buffer only
/// grows through [`Chunk::make_room`]: so the room past a buffer's length never holds a byte,
/// and wiping the length alone is enough. (Wiping whole capacities on drop, as `Zeroizing`
/// does, faulted in about 260 pages that no chunk had written in a 10,000-value decrypt: a
/// tenth of the run's page faults.)
#[derive(Default)]
struct Chunk {
    text: Vec<u8>,
    mac: Vec<u8>,
}

impl Chunk {
    /// Makes room for `text` more bytes of text and `mac` more MAC bytes, as
    /// [`reserve_wiping`] does.
    fn make_room(&mut self, text: usize, mac: usize) {
        reserve_wiping(&mut self.text, text);
        reserve_wiping(&mut self.mac, mac);
    }

    /// Wipes what the chunk holds and empties it.
    fn wipe(&mut self) {
        for buffer in [&mut self.text, &mut self.mac] {
            buffer.as_mut_slice().zeroize();
            buffer.clear();
        }
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// What [`Skeleton::fill`] writes to: a secret buffer for plaintext, a [`PageVec`] for
/// ciphertext.
pub(in crate::sops) trait Output {
    fn append(&mut self, bytes: &[u8]);
}

impl Output for SecretBytes {
    fn append(&mut self, bytes: &[u8]) {
        SecretBytes::append(self, bytes);
    }
}

impl Output for PageVec {
    fn append(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Where filled chunks go, in document order.
struct Sink<'a> {
    out: &'a mut (dyn Output + Send),
    hasher: Option<&'a mut Sha512>,
}

impl Sink<'_> {
    /// Takes a chunk, and wipes and empties it for reuse.
    fn take(&mut self, chunk: &mut Chunk) {
        self.out.append(&chunk.text);
        if let Some(hasher) = self.hasher.as_deref_mut() {
            hasher.update(chunk.mac.as_slice());
        }
        chunk.wipe();
    }
}

/// Chunks filled before their turn, and the sink.
struct Queue<'a> {
    /// The chunk the sink takes next.
    due: usize,
    waiting: Vec<Option<Chunk>>,
    /// Emptied chunks, for reuse.
    spare: Vec<Chunk>,
    /// `None` while a thread has it out.
    sink: Option<Sink<'a>>,
}

impl Queue<'_> {
    /// Hands in chunk `index`, puts every due chunk in the sink unless another thread is doing
    /// so, and returns an empty chunk to fill next.
    fn hand_in(queue: &Mutex<Self>, index: usize, chunk: Chunk) -> Chunk {
        let lock = || queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut guard = lock();
        guard.waiting[index] = Some(chunk);
        let empty = guard.spare.pop().unwrap_or_default();
        let Some(mut sink) = guard.sink.take() else { return empty };
        loop {
            let due = guard.due;
            let Some(mut chunk) = guard.waiting.get_mut(due).and_then(Option::take) else { break };
            drop(guard);
            sink.take(&mut chunk);
            guard = lock();
            guard.due += 1;
            guard.spare.push(chunk);
        }
        // Checked and given back under one lock: a chunk handed in meanwhile was either seen
        // above or finds the sink back.
        guard.sink = Some(sink);
        empty
    }
}

impl Leaf {
    /// The length of the value in the input.
    fn token_len(&self) -> usize {
        match self.token {
            Stored::Str { start, end, .. } => (end - start) as usize + 2,
            Stored::Scalar(_) => 24,
        }
    }

    /// The fewest bytes the value can decode to: a string without escapes is its text, and an
    /// escape (`\uXXXX` at most) is at least one byte.
    pub fn decoded_len_at_least(&self) -> usize {
        match self.token {
            Stored::Str { start, end, escaped: false } => (end - start) as usize,
            Stored::Str { start, end, escaped: true } => (end - start) as usize / 6,
            Stored::Scalar(_) => 1,
        }
    }

    /// The most output text a leaf can fill its hole with. Decrypting: a plaintext byte is at
    /// most 6 bytes of JSON (`\u00XX`), and there are fewer plaintext bytes than envelope
    /// bytes. Encrypting: an envelope is 4/3 of its value plus about 110 bytes of fields.
    fn text_bound(&self) -> usize {
        6 * self.token_len() + 128
    }

    /// What a leaf's output text usually takes: more than its envelope when encrypting (4/3 of
    /// the value and at most ~113 bytes of fields), more than its plaintext when decrypting.
    fn text_estimate(&self) -> usize {
        self.token_len() * 4 / 3 + 128
    }

    /// The most bytes a leaf can put into the MAC: its plaintext (shorter than its envelope,
    /// or its own text), or a number's text form.
    fn mac_bound(&self) -> usize {
        self.token_len() + 32
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::sops::json::tests::{key_strategy, value_strategy};
    use crate::sops::store::{Store, StoreConfig};
    use crate::sops::tree::{Branch, Item, Key};

    /// Everything a skeleton holds, comparable.
    type Summary =
        (Vec<u8>, Vec<(usize, usize, String)>, Vec<(Option<usize>, String, Range<usize>)>, Vec<u8>, usize, bool);

    fn summary(skeleton: &Skeleton<'_>) -> Summary {
        let leaves = skeleton
            .leaves
            .iter()
            .map(|leaf| {
                let token = match skeleton.token(leaf).unwrap() {
                    Token::Str { text, escaped } => format!("str {text:?} {escaped}"),
                    Token::Scalar(scalar) => format!(
                        "scalar {:?}",
                        String::from_utf8_lossy(&crate::sops::scalar::plaintext(scalar).unwrap())
                    ),
                };
                (leaf.hole as usize, leaf.node as usize, token)
            })
            .collect();
        let nodes = skeleton
            .nodes
            .iter()
            .map(|node| {
                let parent = (node.parent != NO_PARENT).then_some(node.parent as usize);
                (parent, String::from_utf8(skeleton.aads[node.key()].to_vec()).unwrap(), node.aad())
            })
            .collect();
        (skeleton.text.clone(), leaves, nodes, skeleton.aads.clone(), skeleton.top_entries, skeleton.sops.is_some())
    }

    fn store() -> JsonStore {
        JsonStore::new(StoreConfig::default())
    }

    fn parser(input: &[u8]) -> Parser<'_> {
        Parser {
            input,
            pos: 0,
            depth: 0,
            max_depth: Limits::default().max_depth,
            negative_zero_is_float: false,
            utf8: true,
        }
    }

    /// Scanning from any comma that ends a line gives one scan's skeleton when that comma is
    /// a top-level one, and gives up otherwise (a nested comma, a comma after only `sops`).
    fn check_every_split(input: &[u8]) -> Result<(), TestCaseError> {
        let whole = summary(&store().skeleton(input, false).unwrap());
        let mut top_level_splits = 0;
        for at in (0..input.len()).filter(|&at| input[at..].starts_with(b",\n")) {
            let halves = store().scan_in_halves(parser(input), at);
            let top_level = input[at..].starts_with(b",\n\t\"");
            let only_sops_before = !input[..at].starts_with(b"{\n\t\"") || input[..at].starts_with(b"{\n\t\"sops\"");
            match halves {
                Some(halves) => {
                    prop_assert!(top_level, "split at a nested comma, byte {}", at);
                    prop_assert_eq!(&summary(&halves), &whole, "split at byte {}", at);
                    top_level_splits += 1;
                }
                None => prop_assert!(!top_level || only_sops_before, "gave up at a top-level comma, byte {}", at),
            }
        }
        let expected = input.windows(4).filter(|w| w == b",\n\t\"").count();
        prop_assert!(top_level_splits + 1 >= expected, "{} of {} top-level splits taken", top_level_splits, expected);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn a_scan_in_halves_is_one_scan(items in prop::collection::vec((key_strategy(), value_strategy()), 0..8)) {
            let doc: Branch = items.into_iter().map(|(k, v)| Item::Pair { key: Key::Str(k), value: v }).collect();
            let input = store().emit_plain(std::slice::from_ref(&doc)).unwrap();
            check_every_split(&input)?;
        }
    }

    #[test]
    fn a_sops_entry_on_either_side_of_the_split() {
        for input in [
            "{\n\t\"a\": 1,\n\t\"b\": {\"c\": [1,\n\t2]},\n\t\"sops\": {\"x\": 1},\n\t\"d\": \"e\"\n}",
            "{\n\t\"sops\": {\"x\": 1},\n\t\"a\": 1,\n\t\"b\": 2\n}",
            "{\n\t\"a\": 1,\n\t\"b\": 2,\n\t\"sops\": {\"x\": 1}\n}",
        ] {
            check_every_split(input.as_bytes()).unwrap();
        }
        let twice = "{\n\t\"sops\": {},\n\t\"a\": 1,\n\t\"sops\": {}\n}";
        assert!(store().skeleton(twice.as_bytes(), false).is_none());
        let at = twice.find(",\n\t\"a\"").unwrap();
        assert!(store().scan_in_halves(parser(twice.as_bytes()), at).is_none());
    }

    #[test]
    fn the_split_is_a_top_level_comma_near_the_middle() {
        let members: Vec<String> = (0..400).map(|i| format!("\"k{i}\": {{\"x\": [1,\n    2]}}")).collect();
        let input = format!("{{\n  {}\n}}\n", members.join(",\n  "));
        let at = split(input.as_bytes()).unwrap();
        assert!(input[at..].starts_with(",\n  \"k"), "{}", &input[at..at + 10]);
        assert!(at >= input.len() / 2 && at < input.len() / 4 * 3);
        // On one line there is no layout to go by.
        assert_eq!(split(input.replace('\n', "").as_bytes()), None);
    }
}
