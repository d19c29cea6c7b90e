// Rates and means with 95% intervals for oracle reports.

import Foundation

/// A rate with its Wilson score interval (Wilson 1927), better than the normal interval near 0 and 1:
///   centre = (p + z^2/2n) / (1 + z^2/n),  half-width = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2),  z = 1.96.
public struct RateEstimate: Codable, Equatable, Sendable {
    public let count: Double
    public let total: Int
    public let rate: Double
    public let low: Double
    public let high: Double

    /// `count` may be fractional (a win rate with ties counted as half).
    public init(count: Double, total: Int, z: Double = 1.959964) {
        self.count = count
        self.total = total
        guard total > 0 else { rate = .nan; low = .nan; high = .nan; return }
        let n = Double(total)
        let p = count / n
        let denominator = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denominator
        let half = z / denominator * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
        rate = p
        // Clamp, and snap rounding residue (~1e-17) at the ends to exactly 0 or 1.
        low = centre - half < 1e-12 ? 0 : centre - half
        high = centre + half > 1 - 1e-12 ? 1 : centre + half
    }
}

/// A mean with a normal-approximation 95% interval: mean +- 1.96 * sd / sqrt(n).
public struct MeanEstimate: Codable, Equatable, Sendable {
    public let mean: Double
    public let total: Int
    public let low: Double
    public let high: Double

    public init(_ values: [Double]) {
        total = values.count
        guard !values.isEmpty else { mean = .nan; low = .nan; high = .nan; return }
        let n = Double(values.count)
        let average = values.reduce(0, +) / n
        let variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / (n - 1) : 0
        mean = average
        let half = 1.959964 * (variance / n).squareRoot()
        low = average - half
        high = average + half
    }
}
