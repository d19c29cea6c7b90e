// `plumb stage KIND --KEY VALUE ... --out RUNS/RUN/STAGE`: any registered stage kind run by hand, its
// flags the stage's keys and slots (StageFlags, PlumbPipeline), run as the same `StageInvocation` a
// pipeline file's stage becomes; `plumb sft ...` (StageKindCommand) is this command with the kind
// fixed. `plumb stage KIND --help-keys` lists the keys and slots.
import ArgumentParser
import Foundation
import PlumbEval
import PlumbMPI
import PlumbPipeline
import PlumbStages

struct StageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage",
        abstract: "Run any stage kind by hand: plumb stage KIND --KEY VALUE ... --out RUNS/RUN/STAGE (KIND as in pipeline files).")

    @Argument(parsing: .captureForPassthrough, help: "The kind's words, then its flags.")
    var words: [String] = []

    func run() throws {
        let (kind, flags) = StageFlags.split(words)
        guard let stage = StageRegistry.standard.stage(StageKind(kind)) else {
            throw CLIError("no stage kind \"\(kind)\" (kinds: \(StageRegistry.standard.kinds.map(\.name).sorted().joined(separator: ", ")))")
        }
        try Self.execute(stage, flags: flags)
    }

    /// Parses the flags into a `StageInvocation`, checks it, starts MPI when it asks for a
    /// distributed run, runs it and prints its metrics.
    static func execute(_ stage: any Stage.Type, flags: [String]) throws {
        let kind = stage.kind.name
        if flags.contains(where: { ["--help-keys", "--help", "-h"].contains($0) }) {
            return print("usage: plumb \(kind) --KEY VALUE ... --out RUNS/RUN/STAGE\n" + (try StageFlags.describe(stage)))
        }
        let (entries, inputs, out) = try StageFlags.parse(flags, stage: stage)
        guard let out else { throw CLIError("\(kind): give --out RUNS/RUN/STAGE") }
        let invocation = StageInvocation(stage: stage, parameters: entries, inputs: inputs)
        do { try invocation.check() } catch let error as StageParameterError { throw CLIError("--\(error.key): \(error.message)") }
        if let mode = try invocation.distributedMode() { try DistributedRuntime.start(mode) }
        let summary = try invocation.run(location: DistributedRuntime.rankLocation(StageLocation(directory: fileURL(out))),
                                         environment: PolicyOracle.environment, progress: ProgressPrinter(label: kind).handle,
                                         log: StageRun.standardError)
        let metrics = summary.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4g", $0.value))" }
        print("\(kind): \(metrics.joined(separator: ", ")) -> \(out)")
    }
}
