// The pipeline runner's services in the `plumb` binary: every stage kind of the standard build, the
// oracle's judge for the stages that use it, MPI started through `DistributedRuntime` when a stage
// asks for it, progress lines on standard error and the pipeline files the binary carries.
import PlumbEval
import PlumbMPI
import PlumbPipeline
import PlumbStages

extension PipelineServices {
    static var standard: PipelineServices {
        PipelineServices(
            registry: .standard, environment: PolicyOracle.environment,
            location: { location, mode in
                if let mode { try DistributedRuntime.start(mode) }
                return DistributedRuntime.rankLocation(location)
            },
            progress: { ProgressPrinter(label: $0).handle }, log: StageRun.standardError,
            builtInFiles: BuiltIn.pipelines, taskKind: .taskGenerate)
    }
}
