import PlumbData
@testable import PlumbStages
import XCTest

final class RewardMixtureTests: XCTestCase {
    /// Stage "a": 100 safety + 300 helpfulness; stage "b": 50 safety + 200 helpfulness.
    let records: [(source: String, dimension: PreferenceDimension)] =
        Array(repeating: ("a", .safety), count: 100) + Array(repeating: ("a", .helpfulness), count: 300)
        + Array(repeating: ("b", .safety), count: 50) + Array(repeating: ("b", .helpfulness), count: 200)

    func counts(_ indices: [Int]) -> [String: Int] {
        indices.reduce(into: [:]) { $0["\(records[$1].source).\(records[$1].dimension.rawValue)", default: 0] += 1 }
    }

    /// Llama 2's safety mixture: all 150 safety comparisons, helpfulness at 90/10: round(150 / 0.9 * 0.1) = 17.
    func testLlama2SafetyMixtureTakesAllSafetyAndATenthOfHelpfulness() throws {
        let (indices, report) = try RewardMixture.llama2(for: .safety).select(records, for: .safety, seed: 3)
        let c = counts(indices)
        XCTAssertEqual((c["a.safety"] ?? 0) + (c["b.safety"] ?? 0), 150)
        XCTAssertEqual((c["a.helpfulness"] ?? 0) + (c["b.helpfulness"] ?? 0), 17)
        XCTAssertEqual(report.map(\.taken), [150, 17])
        XCTAssertEqual(Set(indices).count, indices.count, "no comparison twice")
    }

    /// The helpfulness mixture: all 500 helpfulness, "an equal part" of safety capped by the 150 that exist.
    func testHelpfulnessMixtureReportsAShortfall() throws {
        let (indices, report) = try RewardMixture.llama2(for: .helpfulness).select(records, for: .helpfulness, seed: 3)
        XCTAssertEqual(indices.count, 650)
        XCTAssertEqual(report[1].available, 150)
        XCTAssertEqual(report[1].taken, 150, "wanted 500, only 150 exist")
    }

    /// Per-source weights: counts per source follow the weights; the scarcest target component is taken whole.
    func testCountsPerSourceMatchTheWeights() throws {
        let mixture = RewardMixture(weights: [.init(source: "a", dimension: .safety, weight: 0.45),
                                              .init(source: "b", dimension: .safety, weight: 0.45),
                                              .init(dimension: .helpfulness, weight: 0.1)])
        let (indices, _) = try mixture.select(records, for: .safety, seed: 9)
        let c = counts(indices)
        // k = min(100 / 0.45, 50 / 0.45) = 111.1: a takes 50, b takes all 50, helpfulness round(11.1) = 11.
        XCTAssertEqual(c["a.safety"], 50)
        XCTAssertEqual(c["b.safety"], 50)
        XCTAssertEqual((c["a.helpfulness"] ?? 0) + (c["b.helpfulness"] ?? 0), 11)
        let total = Double(indices.count)
        XCTAssertEqual(Double(c["a.safety"]!) / total, 0.45, accuracy: 0.01)
    }

    func testSameSeedSameMixtureOtherSeedOtherPick() throws {
        let m = RewardMixture.llama2(for: .safety)
        let one = try m.select(records, for: .safety, seed: 1).indices
        XCTAssertEqual(one, try m.select(records, for: .safety, seed: 1).indices)
        XCTAssertNotEqual(one, try m.select(records, for: .safety, seed: 2).indices)
    }

    func testNoTargetDataIsAClearError() {
        let helpfulOnly = records.filter { $0.dimension == .helpfulness }
        XCTAssertThrowsError(try RewardMixture.llama2(for: .safety).select(helpfulOnly, for: .safety, seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("no safety comparisons"), "\(error)")
        }
    }
}
