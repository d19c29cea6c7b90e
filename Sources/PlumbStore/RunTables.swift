// The runs and stages as `plumb runs ls|show` print them: a row of text per run or stage (status
// counts, records, bytes, wall time, the first metrics by name, the stages read), or a JSON object.
import Foundation

extension RunSummary {
    /// Stages of this run in `state`.
    public func count(_ state: StageState) -> Int { stages.filter { $0.state == state }.count }

    /// `runs ls`'s columns: run, stages, complete, failed, running, interrupted, lock.
    public static let listHeaders = ["run", "stages", "complete", "failed", "running", "interrupted", "lock"]

    public var listRow: [String] {
        [name, String(stages.count), String(count(.complete)), String(count(.failed)), String(count(.running)), String(count(.interrupted)),
         lock.text]
    }

    public var listJSON: [String: Any] {
        ["run": name, "stages": stages.count, "complete": count(.complete), "failed": count(.failed), "running": count(.running),
         "interrupted": count(.interrupted), "lock": lock.text]
    }
}

extension CatalogedStage {
    /// `runs show`'s columns.
    public static let showHeaders = ["stage", "kind", "status", "records", "compressed", "time", "metrics", "from"]

    /// The stage's row with its first `metrics` metrics by name.
    public func showRow(metrics: Int) -> [String] {
        let m = manifest
        let outputs = m?.outputs ?? []
        let metricText = (m?.metrics ?? [:]).sorted { $0.key < $1.key }.prefix(metrics)
            .map { "\($0.key)=\(Self.formatMetric($0.value))" }.joined(separator: " ")
        return [name, m?.kind ?? "?", state.rawValue, String(outputs.reduce(0) { $0 + $1.records }),
                formatBytes(outputs.reduce(0) { $0 + $1.compressedBytes } + (m?.artifacts.reduce(0) { $0 + $1.compressedBytes } ?? 0)),
                Self.duration(m), metricText.isEmpty ? "-" : metricText, upstream.isEmpty ? "-" : upstream.joined(separator: ",")]
    }

    public var showJSON: [String: Any] {
        var object: [String: Any] = ["stage": name, "status": state.rawValue, "from": upstream]
        if let m = manifest {
            object["kind"] = m.kind
            object["cache_key"] = m.cacheKey
            object["records"] = m.outputs.reduce(0) { $0 + $1.records }
            object["outputs"] = m.outputs.map { ["name": $0.name, "records": $0.records, "files": $0.files.count] as [String: Any] }
            object["metrics"] = m.metrics
            object["started_at"] = m.startedAt
            if let ended = m.endedAt { object["ended_at"] = ended }
            if let error = m.error { object["error"] = error }
        }
        if let problem { object["problem"] = problem }
        return object
    }

    static func formatMetric(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e12 ? String(Int(value)) : String(format: "%.4g", value)
    }

    /// Wall time of a stage from its manifest's start and end stamps.
    static func duration(_ manifest: StageManifest?) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let m = manifest, let end = m.endedAt.flatMap(formatter.date), let start = formatter.date(from: m.startedAt) else { return "-" }
        return String(format: "%.1fs", end.timeIntervalSince(start))
    }
}

extension RunLock.Probe {
    /// "free", "held by pid P on HOST" or "stale (pid P gone)".
    public var text: String {
        switch self {
        case .free: return "free"
        case .held(let holder): return "held by \(holder.map { "pid \($0.pid) on \($0.host)" } ?? "?")"
        case .stale(let holder): return "stale (pid \(holder.map { String($0.pid) } ?? "?") gone)"
        }
    }
}
