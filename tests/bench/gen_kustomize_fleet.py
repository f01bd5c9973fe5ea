#!/usr/bin/env python3
"""Generate a large kustomize fleet for tests/bench/kustomize_bench.sh.

    gen_kustomize_fleet.py OUT_DIR [--apps 150] [--overlays 100]

writes, deterministically (the same bytes on every run):

    OUT_DIR/base/app-NNN/    one base per app: a Deployment and a Service, plus either an HPA
                             (even apps) or a ConfigMap generator the Deployment reads (odd apps),
                             so 3 objects per app: 150 apps make 450 objects
    OUT_DIR/overlay/         the production overlay over every base: namespace, namePrefix,
                             labels, commonAnnotations, an image per app, replicas, generator
                             merges, strategic-merge and JSON 6902 patches (by label selector, by
                             name regex and per app, inline and from files)
    OUT_DIR/overlays/NNN/    with --overlays N: N more overlays of the same bases, each with its own
                             namespace, prefix, image tags and patches (the "many overlays in one
                             process" measurement)

Only the standard library is used.
"""

import argparse
import os
import sys
import textwrap


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text).lstrip("\n"))


def team(i):
    return f"team-{i % 7}"


def tier(i):
    return ("frontend", "backend", "worker")[i % 3]


def base(out, i):
    name = f"app-{i:03}"
    d = os.path.join(out, "base", name)
    has_hpa = i % 2 == 0
    resources = ["deployment.yaml", "service.yaml"] + (["hpa.yaml"] if has_hpa else [])
    generator = ""
    env_from = ""
    if not has_hpa:
        generator = f"""
            configMapGenerator:
              - name: {name}-config
                literals:
                  - LOG_LEVEL=info
                  - APP_NAME={name}
                  - POOL_SIZE={10 + i % 20}
                envs:
                  - app.env
            """
        # Indented to sit in the container of the Deployment below (after its dedent).
        env_from = f"""
                  envFrom:
                    - configMapRef:
                        name: {name}-config"""
        write(os.path.join(d, "app.env"), f"FEATURE_FLAGS=a,b,{i}\nREGION=eu-west-{1 + i % 3}\n")
    write(
        os.path.join(d, "kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        + "".join(f"  - {r}\n" for r in resources)
        + textwrap.dedent(generator).lstrip("\n")
        + textwrap.dedent(f"""
            labels:
              - pairs:
                  app.kubernetes.io/name: {name}
                  tier: {tier(i)}
                includeSelectors: true
            """).lstrip("\n"),
    )
    write(
        os.path.join(d, "deployment.yaml"),
        f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          annotations:
            fleet.example.com/team: {team(i)}
        spec:
          replicas: 1
          selector:
            matchLabels:
              app: {name}
          template:
            metadata:
              labels:
                app: {name}
            spec:
              containers:
                - name: main
                  image: registry.example.com/{team(i)}/{name}:1.0.0
                  ports:
                    - name: http
                      containerPort: 8080{env_from}
                  env:
                    - name: PORT
                      value: "8080"
                  resources:
                    requests:
                      cpu: 50m
                      memory: 64Mi
                  readinessProbe:
                    httpGet:
                      path: /ready
                      port: http
                - name: proxy
                  image: envoyproxy/envoy:v1.28.0
                  ports:
                    - name: admin
                      containerPort: 9901
        """,
    )
    write(
        os.path.join(d, "service.yaml"),
        f"""
        apiVersion: v1
        kind: Service
        metadata:
          name: {name}
        spec:
          selector:
            app: {name}
          ports:
            - name: http
              port: 80
              targetPort: http
        """,
    )
    if has_hpa:
        write(
            os.path.join(d, "hpa.yaml"),
            f"""
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata:
              name: {name}
            spec:
              scaleTargetRef:
                apiVersion: apps/v1
                kind: Deployment
                name: {name}
              minReplicas: 2
              maxReplicas: {4 + i % 8}
              metrics:
                - type: Resource
                  resource:
                    name: cpu
                    target:
                      type: Utilization
                      averageUtilization: 75
            """,
        )


def overlay(out_dir, bases_rel, apps, variant):
    """One overlay over every base; `variant` makes each copy's settings differ."""
    env = f"prod-{variant}" if variant else "production"
    lines = [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        f"namespace: {env}",
        f"namePrefix: {'p' + str(variant) if variant else 'prod'}-",
        "resources:",
    ]
    lines += [f"  - {bases_rel}/app-{i:03}" for i in range(apps)]
    lines += [
        "labels:",
        "  - pairs:",
        f"      environment: {env}",
        "  - pairs:",
        "      fleet.example.com/managed: \"true\"",
        "    includeTemplates: true",
        "commonAnnotations:",
        "  fleet.example.com/owner: platform",
        "images:",
    ]
    for i in range(apps):
        lines.append(f"  - name: registry.example.com/{team(i)}/app-{i:03}")
        if i % 10 == 0:
            lines.append(f"    newName: mirror.example.com:5000/{team(i)}/app-{i:03}")
        lines.append(f"    newTag: 1.{variant}.{i}")
    lines += [
        "  - name: envoyproxy/envoy",
        "    digest: sha256:" + f"{variant:02x}" * 32,
        "replicas:",
    ]
    lines += [f"  - name: app-{i:03}\n    count: {2 + (i + variant) % 4}" for i in range(1, apps, 3)]
    lines.append("configMapGenerator:")
    for i in range(1, apps, 4):
        lines += [
            f"  - name: app-{i:03}-config",
            "    behavior: merge",
            "    literals:",
            "      - LOG_LEVEL=warn",
            f"      - ENVIRONMENT={env}",
        ]
    lines += [
        "patches:",
        "  - path: backend-resources.yaml",
        "    target:",
        "      kind: Deployment",
        "      labelSelector: tier=backend",
        "  - path: hpa-limits.yaml",
        "    target:",
        "      kind: HorizontalPodAutoscaler",
        "      name: app-0[0-4].*",
        "  - target:",
        "      kind: Service",
        "      labelSelector: tier=frontend",
        "    patch: |-",
        "      - op: add",
        "        path: /metadata/annotations",
        "        value:",
        "          service.beta.kubernetes.io/load-balancer: internal",
    ]
    for i in range(0, apps, 10):
        lines.append(f"  - path: patches/app-{i:03}.yaml")
        write(
            os.path.join(out_dir, "patches", f"app-{i:03}.yaml"),
            f"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: app-{i:03}
            spec:
              template:
                spec:
                  containers:
                    - name: main
                      env:
                        - name: VARIANT
                          value: "{variant}"
                      resources:
                        limits:
                          memory: {256 + i}Mi
            """,
        )
    write(
        os.path.join(out_dir, "backend-resources.yaml"),
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: any
        spec:
          template:
            spec:
              containers:
                - name: main
                  resources:
                    limits:
                      cpu: "1"
                      memory: 512Mi
        """,
    )
    write(
        os.path.join(out_dir, "hpa-limits.yaml"),
        f"""
        - op: replace
          path: /spec/maxReplicas
          value: {20 + variant}
        """,
    )
    write(os.path.join(out_dir, "kustomization.yaml"), "\n".join(lines) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", help="directory to write into (created; must be empty or absent)")
    p.add_argument("--apps", type=int, default=150, help="number of apps (3 objects each; default 150)")
    p.add_argument("--overlays", type=int, default=0, help="extra overlays under OUT/overlays/ (default 0)")
    args = p.parse_args()
    if os.path.exists(args.out) and os.listdir(args.out):
        sys.exit(f"error: {args.out} is not empty")
    for i in range(args.apps):
        base(args.out, i)
    overlay(os.path.join(args.out, "overlay"), "../base", args.apps, 0)
    for n in range(1, args.overlays + 1):
        overlay(os.path.join(args.out, "overlays", f"{n:03}"), "../../base", args.apps, n)
    print(f"{args.out}: {args.apps} apps ({args.apps * 3} objects per overlay), 1 + {args.overlays} overlays")


if __name__ == "__main__":
    main()
