"""A region run to be killed; run as a script by test_regions.py.

Arguments: a pickle of (cfg.pack_config(), RGI ids, regional mean) and the flag folder of
``pause_once``, and the glacier that pauses. Runs the tests' chain in serial mode (this
process) until the test kills it.
"""
from __future__ import annotations

import pickle
import sys


def main() -> None:
    config_file, flag_dir, only = sys.argv[1:4]
    from oggm_glaunti.integration.session.offline import prepare_salem_cache

    prepare_salem_cache()
    from oggm import cfg, utils

    from _region_steps import region_steps
    from oggm_glaunti.integration.regions import run_region

    with open(config_file, "rb") as f:
        packed, rgi_ids, mean = pickle.load(f)
    cfg.unpack_config(packed)
    gdirs = [utils.GlacierDirectory(rgi_id) for rgi_id in rgi_ids]
    run_region(region_steps(mean, flag_dir, only), gdirs, client="serial", progress=False)


if __name__ == "__main__":
    main()
