// The built-in task's files (PlumbTask's generator, quick sizes) import with every field intact:
// TRL comparisons with Plumbline's extra columns, Label Studio rankings and edits, message lists,
// labelled responses.
import PlumbTask
import PlumbTestSupport
import XCTest
@testable import PlumbData

final class TaskDataImportTests: XCTestCase {
    func testGeneratedTaskFilesImport() throws {
        let directory = try scratchDirectory(self)
        let dataset = TaskGenerator(settings: .quick, seed: 3).generate()
        _ = try TaskFiles.write(dataset, settings: .quick, seed: 3, to: directory)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let options: (inout ImportOptions) -> Void = { $0.deduplication.nearDuplicates = false }

        // Comparisons: every extra column read back, in order.
        let comparisons = try importFiles([path(TaskFiles.comparisons)], configure: options)
        XCTAssertEqual(comparisons.sources[0].format, .trl)
        XCTAssertTrue(comparisons.sources[0].isBalanced)
        XCTAssertEqual(comparisons.sources[0].quarantinedTotal, 0)
        let written = try String(contentsOfFile: path(TaskFiles.comparisons), encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(ComparisonRecord.self, from: Data($0.utf8)) }
        let imported = Dictionary(comparisons.comparisons.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var checked = 0
        for record in written {
            guard let comparison = imported[record.id] else { continue }  // an exact duplicate
            XCTAssertEqual(comparison.prompt.messages.map(\.content), record.prompt.map(\.content))
            XCTAssertEqual(comparison.chosen, record.chosen[0].content)
            XCTAssertEqual(comparison.rejected, record.rejected[0].content)
            XCTAssertEqual(comparison.dimension.rawValue, record.dimension)
            XCTAssertEqual(comparison.strength, .level(PreferenceLevel(rawValue: record.strength.rawValue)!))
            XCTAssertEqual(comparison.annotator, record.annotator)
            XCTAssertEqual(comparison.chosenSafe, record.chosenSafe)
            XCTAssertEqual(comparison.rejectedSafe, record.rejectedSafe)
            XCTAssertEqual(comparison.prompt.tags, record.tags)
            checked += 1
        }
        XCTAssertEqual(checked, comparisons.sources[0].accepted)

        // Rankings and edits: Label Studio exports with their `<stem>-config.xml` found beside them.
        let annotations = try importFiles([path(TaskFiles.rankings), path(TaskFiles.edits)], configure: options)
        XCTAssertTrue(annotations.sources[0].detection.contains("rankings-config.xml"), annotations.sources[0].detection)
        for (source, count) in zip(annotations.sources, [dataset.rankings.count, dataset.edits.count]) {
            XCTAssertEqual(source.recordsRead, count)
            XCTAssertEqual(source.quarantinedTotal, 0)
            XCTAssertTrue(source.isBalanced)
        }
        XCTAssertEqual(annotations.sources[0].accepted(.ranking), annotations.sources[0].accepted)
        XCTAssertEqual(annotations.sources[1].derived(.demonstration), annotations.sources[1].accepted(.edit))
        XCTAssertEqual(annotations.sources[1].derived(.comparison), annotations.sources[1].accepted(.edit))
        let rankings = annotations.records.compactMap { if case .ranking(let r) = $0.record { return r } else { return nil } }
        let firstTask = dataset.rankings[0]
        let bodies = Dictionary(uniqueKeysWithValues: firstTask.data.items.map { ($0.id, $0.body) })
        XCTAssertEqual(rankings[0].responses, firstTask.annotations[0].result[0].value.ranker.map { bodies[$0]! })
        XCTAssertEqual(rankings[0].prompt.tags, firstTask.data.tags)

        // Message lists: demonstrations and prompt sets.
        let sft = try importFiles([path(TaskFiles.sft), path(TaskFiles.ppoPrompts)], configure: options)
        XCTAssertEqual(sft.sources.map(\.format), [.messages, .messages])
        XCTAssertEqual(sft.sources[0].accepted(.demonstration) + sft.sources[0].exactDuplicates, dataset.sft.count)
        XCTAssertEqual(sft.sources[1].accepted(.prompt) + sft.sources[1].exactDuplicates, dataset.ppoPrompts.count)

        // Labelled responses (BeaverTails layout): labels, categories and tags read back.
        let labelled = try importFiles([path(TaskFiles.labelledResponses)], configure: options)
        XCTAssertEqual(labelled.sources[0].format, .labelledResponses)
        XCTAssertEqual(labelled.sources[0].quarantinedTotal, 0)
        XCTAssertEqual(labelled.sources[0].accepted + labelled.sources[0].exactDuplicates, dataset.labelledResponses.count)
        let byID = Dictionary(uniqueKeysWithValues: dataset.labelledResponses.map { ($0.id, $0) })
        for record in labelled.labelledResponses {
            let source = try XCTUnwrap(byID[record.id])
            XCTAssertEqual(record.safe, source.isSafe)
            XCTAssertEqual(record.categories, source.category.filter(\.value).map(\.key).sorted())
            XCTAssertEqual(record.prompt.tags, source.tags)
        }
    }
}
