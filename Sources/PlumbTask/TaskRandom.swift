// A small seeded random number generator (SplitMix64) owned by the task generator, so that the same
// seed gives the same bytes on every machine. PlumbTask depends on Foundation only, hence its own type.
import Foundation

public struct TaskRandom: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// SplitMix64 (Steele, Lea, Flood 2014): add the golden-ratio increment, then mix.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A child stream for one part of the output, so adding records to one file does not shift another.
    public func stream(_ label: String) -> TaskRandom {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 // FNV-1a over the label
        for byte in label.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        var child = TaskRandom(seed: state ^ hash)
        _ = child.next()
        return child
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    public mutating func chance(_ probability: Double) -> Bool { uniform() < probability }

    /// Uniform integer in `range` (modulo bias is below 2^-40 for the small ranges used here).
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(next() % width)
    }

    public mutating func pick<T>(_ items: [T]) -> T { items[int(in: 0...(items.count - 1))] }

    /// Standard normal draw (Box-Muller).
    public mutating func gaussian() -> Double {
        let u1 = max(uniform(), 0x1.0p-53)
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Fisher-Yates shuffle, deterministic for a given state.
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var out = items
        guard out.count > 1 else { return out }
        for i in stride(from: out.count - 1, to: 0, by: -1) {
            out.swapAt(i, int(in: 0...i))
        }
        return out
    }

    /// `count` distinct items drawn without replacement.
    public mutating func sample<T>(_ items: [T], count: Int) -> [T] {
        Array(shuffled(items).prefix(count))
    }
}
