// `plumb import FILE... --out RUNS/RUN/STAGE`: the import stage kind (`DataImportStage`) run by hand,
// its flags derived from the stage's parameters and input slots (`--format`, `--label-config FILE`,
// `--keep-ties`, ...); the files are its positional inputs. A pipeline's `import` stage runs the
// same `StageInvocation`.
import PlumbStages

typealias ImportCommand = StageKindCommand<DataImportStage>
