//! UniProt and ChEMBL: resolve a target and discover proteins, compounds and drugs for it.
