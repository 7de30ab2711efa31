"""Network experiments: each module registers ``kind="network"`` claims (run by ``kdverify gpu``)."""
