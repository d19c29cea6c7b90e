// Reading `metrics.jsonl` back, typed: each line's event, its step and its numeric figures by name
// (the flat names the log writes: `loss`, `objective/kl`, `oracle/helpfulness`). A line that does not
// parse (one cut short by a kill) is left out, and so is a value that is not a number.
import Foundation

public struct MetricsLine: Decodable, Equatable {
    public var event: String
    public var step: Int?
    /// Every numeric field but the step, by name.
    public var figures: [String: Double]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        event = try c.decode(String.self, forKey: Key(stringValue: "event"))
        step = try? c.decode(Int.self, forKey: Key(stringValue: "step"))
        figures = [:]
        for key in c.allKeys where key.stringValue != "event" && key.stringValue != "step" {
            if let value = try? c.decode(Double.self, forKey: key) { figures[key.stringValue] = value }
        }
    }

    /// The lines of the log at `url` that parse, in order.
    public static func read(_ url: URL) throws -> [MetricsLine] {
        let decoder = JSONDecoder()
        return try Data(contentsOf: url).split(separator: 0x0A).compactMap { try? decoder.decode(MetricsLine.self, from: $0) }
    }
}
