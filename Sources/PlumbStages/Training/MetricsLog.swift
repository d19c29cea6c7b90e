// `metrics.jsonl` in a stage directory: one JSON object per event, appended and flushed as it
// happens, so a killed run keeps every line it reported. A resumed run first cuts the log back to
// the checkpoint it restored, so every step appears once.
import Foundation

public final class MetricsLog {
    private let handle: FileHandle
    public let url: URL

    /// Opens (creating or appending to) `metrics.jsonl` in `directory`.
    public init(directory: URL) throws {
        url = directory.appendingPathComponent("metrics.jsonl")
        if !FileManager.default.fileExists(atPath: url.path) {
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    /// Cuts the log back to what a run restored at `step` had reported: the lines up to the first
    /// line of a later step, without an unfinished or unreadable line, nor trailing lines that carry no
    /// step (the `start` of an attempt that got no further). At step 0 the log is emptied.
    public func cutBack(toStep step: Int) throws {
        let data = try Data(contentsOf: url)
        let keep = Self.keptPrefix(data, step: step)
        if keep < data.count { try handle.truncate(atOffset: UInt64(keep)) }
        try handle.seekToEnd()
    }

    /// Bytes of `data` (a metrics.jsonl) to keep for a run restored at `step`.
    static func keptPrefix(_ data: Data, step: Int) -> Int {
        if step == 0 { return 0 }
        var offset = data.startIndex, kept = data.startIndex
        while let newline = data[offset...].firstIndex(of: 0x0A),
              let object = (try? JSONSerialization.jsonObject(with: data[offset..<newline])) as? [String: Any] {
            let lineStep = object["step"] as? Int
            if let s = lineStep, s > step { break }
            offset = newline + 1
            if lineStep != nil { kept = offset }
        }
        return kept - data.startIndex
    }

    /// Appends the event as one line; events that carry no figures are skipped.
    public func record(_ event: TrainingProgress) throws {
        var object: [String: Any]
        switch event {
        case .step(let r):
            object = ["event": "step", "step": r.step, "loss": Double(r.loss), "lr": Double(r.learningRate),
                      "grad_norm": Double(r.gradNorm), "tokens": r.tokens, "tokens_per_second": r.tokensPerSecond,
                      "elapsed_s": r.elapsedSeconds]
            for (k, v) in r.extra { object[k] = v }
        case .evaluation(let e):
            object = ["event": "eval", "step": e.step]
            for (k, v) in e.metrics { object[k] = v }
        case .checkpoint(let step, let path):
            object = ["event": "checkpoint", "step": step, "path": path]
        case .started(let total, let resumed):
            object = ["event": "start", "total_steps": total, "resumed_at_step": resumed]
        case .finished(let step):
            object = ["event": "end", "step": step]
        }
        var line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        line.append(0x0A)
        try handle.write(contentsOf: line)
    }
}
