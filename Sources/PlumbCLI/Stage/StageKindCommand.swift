// `plumb KIND --KEY VALUE ... --out RUNS/RUN/STAGE` for a stage kind of the registry (`plumb sft`,
// `plumb pretrain`): the command derived from the stage itself. Its flags are the stage's parameter
// keys and input slots, parsed and run by `StageCommand.execute`, the code `plumb stage KIND` runs;
// the pipeline runner runs the same `StageInvocation`. `--help-keys` lists the keys and inputs.
import ArgumentParser
import PlumbPipeline
import PlumbStages

struct StageKindCommand<S: Stage>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: S.kind.words.last!, abstract: S.abstract,
                             discussion: (try? StageFlags.describe(S.self)) ?? "")
    }

    @Argument(parsing: .captureForPassthrough, help: "--KEY VALUE ... (the kind's parameter keys and inputs) and --out RUNS/RUN/STAGE.")
    var flags: [String] = []

    func run() throws { try StageCommand.execute(S.self, flags: flags) }
}
