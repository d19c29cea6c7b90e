// `tb/events.out.tfevents.<seconds>.<host>.<pid>` in a stage directory: every figure a training
// stage reports, as TensorBoard scalars (`train/<name>` per optimiser step, `eval/<name>` per
// validation pass), beside metrics.jsonl. Each attempt of a stage writes a file of its own. An
// attempt resumed from the checkpoint of step N writes a session start at step N + 1, so TensorBoard
// drops what a killed attempt logged past that checkpoint, as metrics.jsonl is cut back; an attempt
// that starts from step 0 removes the earlier attempts' files, as metrics.jsonl is emptied.
import Foundation

public final class TensorBoardLog {
    public static let directoryName = "tb"
    public let url: URL
    private let handle: FileHandle

    /// Creates a new events file under `stageDirectory/tb`. The seconds in its name are later than
    /// those of any events file already there, so TensorBoard (which reads them in name order)
    /// reads this attempt's last.
    public init(stageDirectory: URL, now: Date = Date(), host: String = ProcessInfo.processInfo.hostName) throws {
        let directory = stageDirectory.appendingPathComponent(Self.directoryName)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let earlier = try FileManager.default.contentsOfDirectory(atPath: directory.path).compactMap(Self.seconds)
        let seconds = max(Int(now.timeIntervalSince1970), (earlier.max() ?? 0) + 1)
        let safeHost = String(host.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
        url = directory.appendingPathComponent("events.out.tfevents.\(String(format: "%010d", seconds)).\(safeHost).\(getpid())")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle = try FileHandle(forWritingTo: url)
        try write(TensorBoardEvent.fileVersion(wallTime: now.timeIntervalSince1970))
    }

    deinit { try? handle.close() }

    /// The seconds field of an events file's name.
    static func seconds(_ name: String) -> Int? {
        let prefix = "events.out.tfevents."
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count).prefix { $0 != "." })
    }

    /// Writes the event's figures; events without figures (checkpoints, the end) write nothing.
    public func record(_ event: TrainingProgress, wallTime: Double = Date().timeIntervalSince1970) throws {
        switch event {
        case .started(_, let resumedAt) where resumedAt > 0:
            try write(TensorBoardEvent.sessionStart(step: resumedAt + 1, wallTime: wallTime))
        case .started:
            let directory = url.deletingLastPathComponent()
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
            where Self.seconds(name) != nil && name != url.lastPathComponent {
                try FileManager.default.removeItem(at: directory.appendingPathComponent(name))
            }
        case .step(let r):
            // One value per tag, as metrics.jsonl has one per key: an extra figure of the same name
            // replaces the step's own (MetricsLog does the same).
            var figures: [String: Float] = ["loss": r.loss, "lr": r.learningRate, "grad_norm": r.gradNorm,
                                            "tokens_per_second": Float(r.tokensPerSecond)]
            for (k, v) in r.extra { figures[k] = Float(v) }
            let values = figures.sorted { $0.key < $1.key }.map { ("train/\($0.key)", $0.value) }
            try write(TensorBoardEvent.scalars(values, step: r.step, wallTime: wallTime))
        case .evaluation(let e):
            let values = e.metrics.sorted { $0.key < $1.key }.map { ("eval/\($0.key)", Float($0.value)) }
            try write(TensorBoardEvent.scalars(values, step: e.step, wallTime: wallTime))
        default:
            break
        }
    }

    private func write(_ event: [UInt8]) throws {
        try handle.write(contentsOf: TensorBoardEvent.record(event))
    }
}
