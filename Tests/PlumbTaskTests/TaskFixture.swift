// Shared fixtures: the task generated once per seed (quick preset) into a temporary directory and
// read back from its files, so every test checks what a user's `plumb import` would read.

import Foundation
import XCTest
@testable import PlumbOracle
@testable import PlumbTask

final class TaskFixture {
    let seed: UInt64
    let directory: URL
    let manifest: TaskManifest

    private nonisolated(unsafe) static var cache: [UInt64: TaskFixture] = [:]

    /// The quick-preset task for `seed`, generated on first use.
    static func quick(seed: UInt64) throws -> TaskFixture {
        if let hit = cache[seed] { return hit }
        let fixture = try TaskFixture(seed: seed)
        cache[seed] = fixture
        return fixture
    }

    private init(seed: UInt64) throws {
        self.seed = seed
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-task-test-\(getpid())-\(seed)-\(UUID().uuidString)")
        let data = TaskGenerator(settings: .quick, seed: seed).generate()
        manifest = try TaskFiles.write(data, settings: .quick, seed: seed, to: directory)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func bytes(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    func jsonl<T: Decodable>(_ name: String, as type: T.Type) throws -> [T] {
        let text = String(decoding: try bytes(name), as: UTF8.self)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    func json<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: try bytes(name))
    }

    func sft() throws -> [MessageRecord] { try jsonl(TaskFiles.sft, as: MessageRecord.self) }
    func comparisons() throws -> [ComparisonRecord] { try jsonl(TaskFiles.comparisons, as: ComparisonRecord.self) }
    func rankings() throws -> [RankingTask] { try json(TaskFiles.rankings, as: [RankingTask].self) }
    func edits() throws -> [EditTask] { try json(TaskFiles.edits, as: [EditTask].self) }
    func evalPrompts() throws -> [MessageRecord] { try jsonl(TaskFiles.evalPrompts, as: MessageRecord.self) }
}

/// Rates the oracle measures in SFT demonstrations, with the size of each denominator.
struct MeasuredSFTFlaws {
    var helpfulness = 0, wrong = 0, rambling = 0, harmful = 0, compliance = 0, borderline = 0, overRefusal = 0

    init(_ records: [MessageRecord]) throws {
        for record in records {
            let verdict = try OracleJudge.judge(prompt: record.prompt!, response: record.response!)
            switch verdict.kind {
            case .harmful:
                harmful += 1
                compliance += verdict.violation ? 1 : 0
            case .borderline:
                borderline += 1
                overRefusal += verdict.falseRefusal ? 1 : 0
            default:
                helpfulness += 1
                wrong += verdict.quality.correct ? 0 : 1
                rambling += verdict.quality.concise ? 0 : 1
            }
        }
    }
}

/// |observed share - p| within `sigmas` binomial standard errors of a share out of n.
func assertRate(_ count: Int, of total: Int, equals p: Double, sigmas: Double = 4, _ what: String,
                file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertGreaterThan(total, 0, what, file: file, line: line)
    let observed = Double(count) / Double(total)
    let tolerance = sigmas * (p * (1 - p) / Double(total)).squareRoot()
    XCTAssertEqual(observed, p, accuracy: tolerance, "\(what): \(count)/\(total) = \(observed), stated \(p), tolerance \(tolerance)",
                   file: file, line: line)
}
