// Options shared by the stage commands that are not yet derived from their stage (rs, ppo, rm eval,
// rm score, screen): where the stage goes.
import ArgumentParser
import Foundation
import PlumbMPI
import PlumbStages

/// A command-line path as a file URL.
func fileURL(_ path: String) -> URL { URL(fileURLWithPath: path).standardizedFileURL }

struct StageOutputOptions: ParsableArguments {
    @Option(help: "Stage directory to write: RUNS/RUN/STAGE (e.g. runs/2026-11/sft).")
    var out: String

    /// Where the stage goes: RUNS/RUN/STAGE, or on a rank other than 0 of a distributed job the same
    /// RUN/STAGE under that rank's scratch directory (rank 0 alone writes the stage).
    var location: StageLocation { DistributedRuntime.rankLocation(StageLocation(directory: fileURL(out))) }
}
