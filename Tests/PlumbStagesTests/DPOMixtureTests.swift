// DPO's data mixture (`plumb dpo --mix`, the reward models' RewardMixture rule with every component
// setting the scale): counts per source for given weights, a named dimension before a source's
// whole, the same pick for the same seed, bad components refused with the option and value named,
// and the stage: per-source counts and the mixture in the manifest, a cache key per weighting.
import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import XCTest

final class DPOMixtureTests: XCTestCase {
    /// Stage "imp": 60 helpfulness + 40 safety; stage "rs": 30 helpfulness.
    let records: [(source: String, dimension: PreferenceDimension)] =
        Array(repeating: ("imp", .helpfulness), count: 60) + Array(repeating: ("imp", .safety), count: 40)
        + Array(repeating: ("rs", .helpfulness), count: 30)

    func dpoMix(_ texts: String...) throws -> RewardMixture {
        RewardMixture(weights: try texts.map { try MixtureWeight.parse($0) })
    }

    func counts(_ indices: [Int]) -> [String: Int] {
        indices.reduce(into: [:]) { $0["\(records[$1].source).\(records[$1].dimension.rawValue)", default: 0] += 1 }
    }

    func select(_ m: RewardMixture, seed: UInt64 = 5) throws -> (indices: [Int], report: [MixtureComponentReport]) {
        try XCTUnwrap(try m.select(records, scaledBy: { _ in true }, seed: seed))
    }

    /// Shares: k = min(available / weight) over all components; each takes min(available, round(k * weight)).
    func testPerSourceWeightsPickTheExpectedCounts() throws {
        // k = min(100 / 0.25, 30 / 0.75) = 40: imp takes 10 (of both dimensions), rs all 30.
        let (indices, report) = try select(try dpoMix("imp=0.25", "rs=0.75"))
        let c = counts(indices)
        XCTAssertEqual((c["imp.helpfulness"] ?? 0) + (c["imp.safety"] ?? 0), 10)
        XCTAssertEqual(c["rs.helpfulness"], 30)
        XCTAssertEqual(report.map(\.available), [100, 30])
        XCTAssertEqual(report.map(\.taken), [10, 30])
        XCTAssertEqual(report.map(\.key), ["imp", "rs"])
        XCTAssertEqual(Set(indices).count, indices.count, "no comparison twice")
        // Equal weights: as many from each source as the scarcer has.
        XCTAssertEqual(try select(try dpoMix("imp=1", "rs=1")).report.map(\.taken), [30, 30])
        // A weight above 1 is a larger share, not repetition: k = min(100 / 3, 30 / 1) = 30, imp wants 90.
        XCTAssertEqual(try select(try dpoMix("imp=3", "rs=1")).report.map(\.taken), [90, 30])
        // Weight 0 drops a source; `*` pools every stage not named.
        let pooled = try select(try dpoMix("rs=0", "*=1"))
        XCTAssertEqual(counts(pooled.indices)["rs.helpfulness"], nil)
        XCTAssertEqual(pooled.indices.count, 100)
    }

    /// A component naming a source's dimension takes that dimension's comparisons before the source's whole.
    func testADimensionComponentBeatsTheSourcesWhole() throws {
        // imp:safety (40) at 0 is dropped; imp's helpfulness (60) and rs (30) at 1:1 -> 30 each.
        let (indices, report) = try select(try dpoMix("imp=1", "imp:safety=0", "rs=1"))
        let c = counts(indices)
        XCTAssertEqual(c["imp.helpfulness"], 30)
        XCTAssertNil(c["imp.safety"])
        XCTAssertEqual(c["rs.helpfulness"], 30)
        XCTAssertEqual(report.map(\.key), ["imp", "imp.safety", "rs"])
        XCTAssertEqual(report.map(\.available), [60, 40, 30])
    }

    func testSameSeedSamePickOtherSeedOtherPick() throws {
        let m = try dpoMix("imp=0.5", "rs=0.5")
        let one = try select(m, seed: 1).indices
        XCTAssertEqual(one, try select(m, seed: 1).indices)
        XCTAssertNotEqual(one, try select(m, seed: 2).indices)
        XCTAssertEqual(try select(m, seed: 2).indices.count, one.count)
    }

    func testBadComponentsAreRefusedNamingTheOptionAndValue() throws {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        let unknown = message { try self.dpoMix("imp=1", "rss=0.5").validate(sources: ["imp", "rs"]) }
        XCTAssertTrue(unknown.contains("--mix rss=0.5") && unknown.contains("no --data stage is named 'rss'"), unknown)
        let negative = message { _ = try MixtureWeight.parse("imp=-1") }
        XCTAssertTrue(negative.contains("--mix imp=-1") && negative.contains(">= 0"), negative)
        let text = message { _ = try MixtureWeight.parse("imp=lots") }
        XCTAssertTrue(text.contains("--mix imp=lots") && text.contains("not a number"), text)
        XCTAssertTrue(message { _ = try MixtureWeight.parse("imp:wisdom=1") }.contains("unknown dimension 'wisdom'"))
        XCTAssertTrue(message { _ = try MixtureWeight.parse("imp") }.contains("expected SOURCE=WEIGHT"))
        XCTAssertTrue(message { _ = try self.dpoMix("imp=1", "imp=2").validate() }.contains("given twice"))
        // A reward model's components name a dimension; DPO's may.
        XCTAssertTrue(message { _ = try MixtureWeight.parse("imp=1", requireDimension: true) }.contains("names a dimension"))
        XCTAssertEqual(try MixtureWeight.parse("imp:safety=0.5"), MixtureWeight(source: "imp", dimension: .safety, weight: 0.5))
    }

    // MARK: the stage

    /// Two import stages of the quick task's comparisons (48 and 24, validation share 0.25) and a random policy.
    func stageInputs() throws -> (tokenizer: URL, policy: URL, a: URL, b: URL, runs: URL) {
        let f = try StageFixtures.fixture()
        let root = f.root.appendingPathComponent("dpo-mix-inputs")
        let runs = root.appendingPathComponent("runs")
        let lines = try String(contentsOf: f.task.appendingPathComponent("comparisons.jsonl"), encoding: .utf8).split(separator: "\n")
        var stages: [URL] = []
        for (name, slice) in [("import-a", lines[0..<48]), ("import-b", lines[48..<72])] {
            let stage = runs.appendingPathComponent("r/\(name)")
            stages.append(stage)
            if FileManager.default.fileExists(atPath: stage.appendingPathComponent("manifest.json").path) { continue }
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let file = root.appendingPathComponent("\(name).jsonl")
            try (slice.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            try StageFixtures.plumb(["import", file.path, "--out", stage.path, "--validation-fraction", "0.25", "--test-fraction", "0"])
        }
        let policy = root.appendingPathComponent("policy")
        let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 512, maxSeqLen: 96)
        try LlamaModel(config: config, heads: .lm, seed: 8).save(to: policy)
        return (f.tokenizer, policy, stages[0], stages[1], runs)
    }

    func parameters(_ mix: String...) throws -> DPOStage.Parameters {
        var p = DPOStage.Parameters()
        p.seqLen = 95
        p.rows = 4
        p.loop = LoopSettings(optimization: OptimizationSettings(learningRate: 1e-3), checkpointEvery: 0, evaluateEvery: 0)
        p.mix = mix
        return p
    }

    /// The manifest holds each source's pairs and each component's weight / available / taken; other
    /// weights give another cache key; an unknown source stops the stage before it starts.
    func testStageRecordsTheMixtureAndItsCountsAndKeysOnTheWeights() throws {
        let i = try stageInputs()
        let inputs = StageInputs(["tokenizer": [i.tokenizer], "init-from": [i.policy], "data": [i.a, i.b]])
        func run(_ stage: String, _ p: DPOStage.Parameters) throws -> StageManifest {
            _ = try StageRun.run(DPOStage.self, p, inputs: inputs, location: StageLocation(runsRoot: i.runs, run: "r", stage: stage))
            return try StageManifest.read(from: i.runs.appendingPathComponent("r/\(stage)"))
        }
        let even = try run("dpo-even", try parameters("import-a=1", "import-b=1"))
        let m = even.metrics
        let availableA = try XCTUnwrap(m["mixture.train.import-a.available"]), availableB = try XCTUnwrap(m["mixture.train.import-b.available"])
        XCTAssertGreaterThan(availableA, availableB, "import-a has twice the comparisons")
        XCTAssertEqual(m["pairs.train.import-a"], availableB, "1:1 - as many from a as b has")
        XCTAssertEqual(m["pairs.train.import-b"], availableB)
        XCTAssertEqual(m["mixture.train.import-a.taken"], availableB)
        XCTAssertEqual(m["mixture.train.import-a.weight"], 1)
        XCTAssertEqual(m["pairs.train"], 2 * availableB)
        XCTAssertEqual((m["pairs.validation.import-a"] ?? 0) + (m["pairs.validation.import-b"] ?? 0), m["pairs.validation"])

        let onlyA = try run("dpo-only-a", try parameters("import-a=1", "import-b=0"))
        XCTAssertEqual(onlyA.metrics["pairs.train.import-a"], availableA)
        XCTAssertEqual(onlyA.metrics["pairs.train.import-b"], 0)
        XCTAssertNotEqual(even.cacheKey, onlyA.cacheKey, "the weights are part of the cache key")
        guard case .object(let config) = onlyA.config else { return XCTFail("the config is not an object: \(onlyA.config)") }
        XCTAssertEqual(config["mix"], .array([.string("import-a=1"), .string("import-b=0")]), "the mixture is in the manifest's parameters")

        XCTAssertThrowsError(try run("dpo-unknown", try parameters("import-a=1", "import-c=1"))) { error in
            XCTAssertTrue("\(error)".contains("--mix import-c=1") && "\(error)".contains("no --data stage is named 'import-c'"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: i.runs.appendingPathComponent("r/dpo-unknown").path))
    }
}
