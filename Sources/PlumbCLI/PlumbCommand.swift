// The root of the `plumb` command line. Each command is a thin layer over a library: parse options,
// load artifacts, call the library, save (STYLE.md habit 7).
import ArgumentParser
import PlumbStages

public struct PlumbCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plumb",
        abstract: "Align Llama-family language models with human preferences, on ordinary machines.",
        subcommands: [
            DemoCommand.self,
            PipelineCommand.self,
            StageCommand.self,
            TaskCommand.self,
            ImportCommand.self,
            ScreenCommand.self,
            TokenizerCommand.self,
            ShardsCommand.self,
            RunsCommand.self,
            ReportCommand.self,
            StageKindCommand<PretrainStage>.self,
            StageKindCommand<SFTStage>.self,
            RewardCommand.self,
            StageKindCommand<RejectionSamplingStage>.self,
            RejectionSamplingMergeCommand.self,
            StageKindCommand<DPOStage>.self,
            StageKindCommand<KTOStage>.self,
            StageKindCommand<PPOStage>.self,
            StageKindCommand<RLStage>.self,
            ChatCommand.self,
            GenerateCommand.self,
            ExportCommand.self,
            EvalCommand.self,
            BenchCommand.self,
        ]
    )

    public init() {}
}

/// `plumb bench ...`: benchmarks that print one JSON object each (release builds only).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput and memory; each subcommand prints one JSON object.",
        subcommands: [
            BenchGemmCommand.self,
            BenchTrainCommand.self,
            BenchMemoryCommand.self,
            BenchBaseCommand.self,
            BenchDecodeCommand.self,
            BenchSampleCommand.self,
            BenchShardsCommand.self,
            BenchImportCommand.self,
            BenchRSCommand.self,
            BenchDPOCommand.self,
            BenchPPOCommand.self,
            BenchRLCommand.self,
            BenchAllreduceCommand.self,
        ]
    )
}

/// `plumb eval ...`: evaluation of policies and reward models.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate policies and reward models.",
        subcommands: [EvalOracleCommand.self, EvalBestOfKCommand.self, EvalSampleScoresCommand.self]
    )
}
