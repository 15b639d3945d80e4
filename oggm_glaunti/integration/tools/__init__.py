"""The differentiable tools on a glacier directory: entity tasks that run the tools of
:mod:`oggm_glaunti.tools` through the glacier's one run (:mod:`oggm_glaunti.integration.run.glacier_run`) and
write a named file in the glacier directory, and the figures drawn from those files."""
