"""Writers, bundles and manifests for what leaves the trust (partner products arrive here next).

Nothing in this package may read landing/ or quarantine/: it starts from restricted/.
"""
