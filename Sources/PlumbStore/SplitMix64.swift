// A small seeded generator for shuffled reads (SplitMix64, Steele, Lea & Flood 2014): same seed,
// same sequence on every platform. PlumbStore keeps its own so it depends on nothing but zstd.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in 0..<bound (Lemire's multiply-shift with rejection), bound > 0.
    public mutating func below(_ bound: Int) -> Int {
        let b = UInt64(bound)
        while true {
            let product = next().multipliedFullWidth(by: b)
            if product.low >= b || product.low >= (0 &- b) % b { return Int(product.high) }
        }
    }

    /// Fisher-Yates shuffle of `array` with this generator.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, below(i + 1))
        }
    }
}
