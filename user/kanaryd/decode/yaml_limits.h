/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * How much of one manifest file kanaryd reads before it calls the file bad.
 * A file past any of them is reported with its line and ignored as a whole,
 * as a syntax error is, so a hostile or broken file cannot take kanaryd's
 * memory or time.  Sized for real manifests; docs/kanaryd.md says why.
 */
#ifndef KD_YAML_LIMITS_H
#define KD_YAML_LIMITS_H

/*
 * Bytes per file.  A ConfigMap (how manifests reach the DaemonSet) holds at
 * most 1 MiB, and etcd stores objects of at most 1.5 MiB; kubectl prints
 * real objects at 7 to 25 bytes per node, so 4 MiB is at most ~600,000
 * nodes of real YAML, inside KD_YAML_MAX_NODES.
 */
#define KD_YAML_MAX_BYTES	(4u << 20)
/*
 * Collections nested in one another.  Kubernetes and Istio objects nest 5
 * to 12 deep (managedFields included); libyaml's scanner costs time in
 * proportion to the depth on every token, so depth is what made deep files
 * quadratic.
 */
#define KD_YAML_MAX_DEPTH	64
/* Aliases (*name) per document: generated manifests have none, hand-written ones a few. */
#define KD_YAML_MAX_ALIASES	1000
/*
 * Nodes per file, each node reached through an alias counted again each
 * time: the size of the tree the decoders walk.  A "billion laughs" file is
 * small but expands past it at once.  It also bounds the parsed documents'
 * memory (about 200 bytes a node in libyaml).
 */
#define KD_YAML_MAX_NODES	1000000
/* Objects per file: documents, and the items of kind: List. */
#define KD_YAML_MAX_OBJECTS	10000

/* Warnings and errors shown per file: the rest are counted in one line. */
#define KD_YAML_MAX_DIAGS	100

#endif
