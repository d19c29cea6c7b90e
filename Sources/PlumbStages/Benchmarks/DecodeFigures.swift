// A decode's time split (GenerationStats) as a benchmark report prints it: flat fields named
// `PREFIX_prefill_seconds`, `PREFIX_decode_seconds`, `PREFIX_decode_steps`, `PREFIX_mean_rows_per_step`,
// `PREFIX_seconds_per_step` beside the report's own (`rollout_...` of the measured decode, `anchor_...`
// of bench sample's). A report encodes it into its own object (`encode(to:)` on the same encoder).
import PlumbModel

/// A JSON key of any name, for fields whose names are made from a prefix.
struct BenchKey: CodingKey {
    let stringValue: String
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

public struct DecodeFigures: Equatable, Sendable {
    public var prefix: String
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    public var decodeSteps: Int
    /// Rows decoded per step (continuous batching keeps it near the slots).
    public var meanRowsPerStep: Double
    public var secondsPerStep: Double

    init(_ prefix: String, _ stats: GenerationStats) {
        self.prefix = prefix
        prefillSeconds = stats.prefillSeconds
        decodeSeconds = stats.decodeSeconds
        decodeSteps = stats.decodeSteps
        meanRowsPerStep = Double(stats.decodedRows) / Double(max(1, stats.decodeSteps))
        secondsPerStep = stats.decodeSeconds / Double(max(1, stats.decodeSteps))
    }

    /// The figures `prefix`'s fields hold in the object `decoder` reads, or nil when it has none.
    init?(_ prefix: String, from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: BenchKey.self)
        guard let prefill = try c.decodeIfPresent(Double.self, forKey: BenchKey(prefix + "_prefill_seconds")) else { return nil }
        self.prefix = prefix
        prefillSeconds = prefill
        decodeSeconds = try c.decode(Double.self, forKey: BenchKey(prefix + "_decode_seconds"))
        decodeSteps = try c.decode(Int.self, forKey: BenchKey(prefix + "_decode_steps"))
        meanRowsPerStep = try c.decode(Double.self, forKey: BenchKey(prefix + "_mean_rows_per_step"))
        secondsPerStep = try c.decode(Double.self, forKey: BenchKey(prefix + "_seconds_per_step"))
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: BenchKey.self)
        try c.encode(prefillSeconds, forKey: BenchKey(prefix + "_prefill_seconds"))
        try c.encode(decodeSeconds, forKey: BenchKey(prefix + "_decode_seconds"))
        try c.encode(decodeSteps, forKey: BenchKey(prefix + "_decode_steps"))
        try c.encode(meanRowsPerStep, forKey: BenchKey(prefix + "_mean_rows_per_step"))
        try c.encode(secondsPerStep, forKey: BenchKey(prefix + "_seconds_per_step"))
    }
}

/// A report and the decode figures printed flat beside its fields (`rollout_...`, `anchor_...`).
public struct WithDecodeFigures<Report: Codable & Sendable>: Codable, Sendable {
    public var report: Report
    public var figures: [DecodeFigures]
    /// The prefixes a decoded object is searched for.
    static var prefixes: [String] { ["rollout", "anchor"] }

    init(_ report: Report, _ figures: [DecodeFigures?]) {
        self.report = report
        self.figures = figures.compactMap { $0 }
    }

    public init(from decoder: Decoder) throws {
        report = try Report(from: decoder)
        figures = try Self.prefixes.compactMap { try DecodeFigures($0, from: decoder) }
    }

    public func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        for f in figures { try f.encode(to: encoder) }
    }
}
