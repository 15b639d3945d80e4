"""Why the evolving glacier changes GlaUnTI's SMB: one calendar year taken apart.

Run after ``evolving_geometry_projection.py`` (on its working directory). For one calendar
year of Hintereisferner's evolving projection, the SMB of the flowline glacier of that year
(glacier-wide, area-weighted over its ice-covered points, mm w.e.) is computed with the
year's two hydrological years run from

- the snow state of the static or of the evolving run,
- the present-day grid arrays, only the evolving TI forcing (each cell's temperature from
  its lowered surface), only the evolving corrector channels (outline and elevation), or
  all evolving arrays,

each carried to the flowline points by the present-day or by the evolving elevation bands.
The first row is the static mode, the last the evolving one; the rows in between say which
piece moves the SMB. Offline::

    GLAUNTI_WEIGHTS_DIR=../shared/glaunti-reference/params \\
    GLAUNTI_OGGM_SAMPLE_DATA=../shared/oggm-sample-data-8af40f89620c6bd72f3485a777a018dcacb99d94 \\
    python sandbox/evolving_geometry_decomposition.py WORKING_DIR/hef --year 2050
"""

from __future__ import annotations

import argparse

import numpy as np

from oggm_glaunti.integration.session.offline import prepare_salem_cache

prepare_salem_cache()

SUFFIX = "_CCSM4_rcp26"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("working_dir", help="the Hintereisferner working directory of the projection script")
    parser.add_argument("--year", type=int, default=2050, help="calendar year (default 2050)")
    parser.add_argument("--variant", default="D", choices=list("ACD"))
    args = parser.parse_args()

    from oggm import utils
    from oggm.core.flowline import FileModel

    from oggm_glaunti.integration import GlaUnTIMassBalance, initialize_oggm
    from oggm_glaunti.integration.output.geometry_history import replayed_profiles
    from oggm_glaunti.integration.run.flowline_run import elevation_bands, point_calendar_year
    from oggm_glaunti.integration.run.glacier_run import YearOutputs
    from oggm_glaunti.integration.run.glacier_year import GridArrays, run_compiled_year

    initialize_oggm(args.working_dir)
    gdir = utils.GlacierDirectory("RGI50-11.00897", base_dir=args.working_dir)
    kwargs = dict(filename="gcm_data", input_filesuffix=SUFFIX, variant=args.variant)
    evolving = GlaUnTIMassBalance(gdir, geometry="evolving", **kwargs)
    replayed_profiles(gdir, evolving, f"_evolving{SUFFIX}", [args.year])  # its timeline, as in the run
    model = FileModel(gdir.get_filepath("model_geometry", filesuffix=f"_evolving{SUFFIX}"))
    model.run_until(args.year)
    heights = np.concatenate([fl.surface_h for fl in model.fls])
    area = np.concatenate([fl.bin_area_m2 for fl in model.fls])

    run, adj, timeline = evolving.glacier_run, evolving.adjustments, evolving._evolving
    hydro = [args.year - 1, args.year]

    def arrays_now(hy):
        return timeline.evolving.arrays(timeline.geometry_of(hy))

    arrays = {
        "present-day arrays": lambda hy: run.arrays,
        "evolving TI forcing only": lambda hy: GridArrays(arrays_now(hy).offset, run.arrays.static,
                                                          run.arrays.window_origin),
        "evolving corrector channels only": lambda hy: GridArrays(run.arrays.offset, arrays_now(hy).static,
                                                                  run.arrays.window_origin),
        "evolving arrays": arrays_now,
    }
    states = {"static": lambda hy: run.year(hy, adj).start_state,
              "evolving": lambda hy: timeline.evolving.year(hy, adj, timeline.geometry_of).start_state}
    bands = {"present-day bands": elevation_bands(run.grid.elevation, run.grid.outline, evolving._band_dz),
             "evolving bands": timeline.bands_of}

    class Years:
        """The years of one combination, as point_calendar_year asks for them."""

        def __init__(self, state_of, arrays_of):
            self.outputs = {}
            for hy in hydro:
                out = run_compiled_year(run.model_for(adj), run.reference_years([hy]).at(0), state_of(hy), True,
                                        *run._adj_arrays(adj), arrays_of(hy), run.window_size)
                self.outputs[hy] = YearOutputs(state_of(hy), np.asarray(out[1]), np.asarray(out[2]))

        def year(self, hy, _):
            return self.outputs[hy]

        def __getattr__(self, name):
            return getattr(run, name)

    print(f"Hintereisferner {args.year}: the evolving run's glacier ({area.sum() * 1e-6:.2f} km2), SMB of calendar "
          f"year {args.year}, mm w.e., glacier-wide on its flowline")
    on = area > 0
    for state_name, state_of in states.items():
        for arrays_name, arrays_of in arrays.items():
            if state_name == "static" and arrays_name != "present-day arrays":
                continue
            years = Years(state_of, arrays_of)
            row = []
            for bands_name, band_set in bands.items():
                smb = point_calendar_year(years, heights, args.year, adj, {}, band_set).smb.sum(0)
                row.append(f"{bands_name} {float((smb[on] * area[on]).sum() / area[on].sum()) * 1000:7.0f}")
            print(f"   {state_name + ' state,':15s} {arrays_name:34s} " + "   ".join(row))


if __name__ == "__main__":
    main()
