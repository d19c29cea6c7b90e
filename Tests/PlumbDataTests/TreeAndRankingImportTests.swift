// OpenAssistant trees (nested export and flat message table, with --lang, left-out replies,
// a repeated rank, an unknown parent and a parent loop), Stack Exchange preferences (HTML, scores,
// HTML that does not parse) and Nectar rankings, from fixtures written to the public layouts
// (LAION-AI/Open-Assistant oasst-data/README.md, HuggingFaceH4/stack-exchange-preferences,
// berkeley-nest/Nectar).
import PlumbTestSupport
import XCTest
@testable import PlumbData
import PlumbStore

final class TreeAndRankingImportTests: XCTestCase {
    func testOpenAssistantTreesGiveRankingsWithTheirConversation() throws {
        let result = try importFiles([fixture("oasst-trees.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .openAssistant)
        // Tree 1: two rankings; tree 2 (German): one; tree 3: siblings share rank 0.
        assertCounts(counts, read: 4, accepted: 3, quarantined: [.repeatedRank: 1])
        XCTAssertEqual(counts.skipped, ["deleted": 1, "review_failed": 1, "unranked": 1])
        let root = result.rankings.first { $0.id == "t1-p" }!
        XCTAssertEqual(root.prompt.messages, [.user("Why can't we divide by 0?")])
        XCTAssertEqual(root.ranks, [2, 1])   // t1-a1 has rank 1, t1-a2 rank 0
        XCTAssertEqual(root.labels?[0]["quality"], 0.75)
        let followUp = result.rankings.first { $0.id == "t1-p2" }!
        XCTAssertEqual(followUp.prompt.messages.map(\.role), [.user, .assistant, .user])
        XCTAssertEqual(followUp.prompt.messages[1].content, "Because no number times 0 gives a non-zero dividend, so the quotient is undefined.")
        XCTAssertEqual(followUp.responses.count, 2)   // the unranked third reply is left out
        XCTAssertEqual(result.quarantine[0].reason, .repeatedRank)
        XCTAssertTrue(result.quarantine[0].detail.contains("t3-a1=0, t3-a2=0"), result.quarantine[0].detail)
        XCTAssertEqual(counts.derived(.comparison), 3)
    }

    /// LAION-AI/Open-Assistant's own files: backend/test.jsonl (an early tree export: no
    /// `review_result` or `deleted`, an assistant replying to an assistant) and
    /// model/model_eval/manual/data/en_100_tree.jsonl (oasst1 trees without labels).
    func testRealOpenAssistantTrees() throws {
        let early = try importFiles([realSample("oasst-early-trees.sample.jsonl")])
        XCTAssertEqual(early.sources[0].format, .openAssistant)
        assertCounts(early.sources[0], read: 2, accepted: 2)
        XCTAssertEqual(early.sources[0].skipped, ["unranked": 4])
        XCTAssertEqual(early.rankings[0].ranks, [1, 2, 3, 4])
        XCTAssertTrue(early.rankings[0].responses[0].hasPrefix("Doc Holliday was a gambler"))
        let deep = early.rankings[1]
        XCTAssertEqual(deep.prompt.messages.count, 9)   // 10 messages, two consecutive assistant ones merged
        XCTAssertEqual(deep.prompt.messages.map(\.role), [.user, .assistant, .user, .assistant, .user, .assistant, .user, .assistant, .user])
        XCTAssertTrue(deep.prompt.messages[7].content.hasPrefix("Try using the programs in this section."), deep.prompt.messages[7].content)
        XCTAssertTrue(deep.prompt.messages[7].content.contains("\n\n  If you have TMJ pain"), deep.prompt.messages[7].content)
        XCTAssertEqual(deep.prompt.messages[8].content, "Thank you for your help'")
        XCTAssertEqual(early.sources[0].derived(.comparison), 6 + 1)
        let oasst1 = try importFiles([realSample("oasst-en100-trees.sample.jsonl")])
        assertCounts(oasst1.sources[0], read: 2, accepted: 2)
        XCTAssertEqual(oasst1.rankings.map(\.ranks), [[1, 2, 3], [1, 2, 3, 4]])
        XCTAssertTrue(oasst1.rankings[1].prompt.messages[0].content.hasPrefix("When did the nuclear disaster"))
    }

    func testLanguageFilter() throws {
        let result = try importFiles([fixture("oasst-trees.jsonl")]) { $0.language = "en" }
        let counts = result.sources[0]
        assertCounts(counts, read: 3, accepted: 2, quarantined: [.repeatedRank: 1])
        XCTAssertEqual(counts.skipped["other_language"], 3)   // the German tree's three messages
        XCTAssertTrue(counts.detection.contains("language 'en'"), counts.detection)
    }

    /// The flat table: tree 1 again, row by row, then a tree holding a reply whose parent is
    /// missing and two messages whose parent links loop.
    func testOpenAssistantMessageTable() throws {
        let result = try importFiles([fixture("oasst-messages.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .openAssistantMessages)
        XCTAssertTrue(counts.detection.contains("message_tree_id"), counts.detection)
        assertCounts(counts, read: 6, accepted: 3, quarantined: [.unknownParent: 1, .treeCycle: 2])
        XCTAssertEqual(counts.skipped, ["deleted": 1, "review_failed": 1, "unranked": 1])
        let fromTree = try importFiles([fixture("oasst-trees.jsonl")]).rankings.filter { $0.id.hasPrefix("t1-") }
        let fromTable = result.rankings.filter { $0.id.hasPrefix("t1-") }
        XCTAssertEqual(fromTable.map(\.responses), fromTree.map(\.responses))
        XCTAssertEqual(fromTable.map(\.prompt.messages), fromTree.map(\.prompt.messages))
        XCTAssertEqual(fromTable.map(\.labels), fromTree.map(\.labels))
        // A ranking's source is its prompt message's row: t1-p2 is the table's third row.
        XCTAssertEqual(fromTable.first { $0.id == "t1-p2" }?.source.line, 3)
        let orphan = result.quarantine.first { $0.reason == .unknownParent }!
        XCTAssertEqual(orphan.field, "parent_id")
        XCTAssertTrue(orphan.detail.contains("t4-missing"), orphan.detail)
    }

    /// The flat table as CSV: absent values are empty cells (no parent, no rank, no review yet).
    func testOpenAssistantMessageTableAsCSV() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "oasst.csv", """
        message_id,parent_id,message_tree_id,text,role,lang,review_result,deleted,rank,labels
        p1,,p1,What is 2+2?,prompter,en,True,False,,
        a1,p1,p1,4.,assistant,en,True,False,0.0,
        a2,p1,p1,Five.,assistant,en,True,False,1.0,
        a3,p1,p1,Not sure.,assistant,en,,False,,
        """)
        let result = try importFiles([path])
        XCTAssertEqual(result.sources[0].format, .openAssistantMessages)
        assertCounts(result.sources[0], read: 1, accepted: 1)
        XCTAssertEqual(result.sources[0].skipped, ["unreviewed": 1])
        XCTAssertEqual(result.rankings[0].responses, ["4.", "Five."])
    }

    func testStackExchangeScoresAndHTML() throws {
        let result = try importFiles([fixture("stack-exchange-preferences.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .stackExchange)
        assertCounts(counts, read: 2, accepted: 1, quarantined: [.invalidHTML: 1])
        XCTAssertEqual(counts.skipped, ["single_answer": 1])
        let ranking = result.rankings[0]
        XCTAssertEqual(ranking.prompt.messages, [.user("How do I reverse a list in Python?\n\nI tried list.reverse() but it returns None.")])
        XCTAssertEqual(ranking.responses[0], "list.reverse() reverses in place and returns None. Use a slice for a copy:\n\nrev = xs[::-1]")
        XCTAssertEqual(ranking.responses[1], "Use reversed(xs) & wrap it in list().")
        XCTAssertEqual(ranking.responses[2], "You can also sort with key <index>, but that is slower.")
        XCTAssertEqual(ranking.scores, [5, 2, 2])
        XCTAssertEqual(ranking.ranks, [1, 2, 2])
        XCTAssertEqual(ranking.labels?.map { $0["selected"] }, [1, 0, 0])
        // Derived pairs carry the score gap; the two answers scored 2 tie and give none.
        let pairs = result.records.filter(\.derived).compactMap { if case .comparison(let c) = $0.record { return c } else { return nil } }
        XCTAssertEqual(pairs.map(\.strength), [.margin(3), .margin(3)])
        XCTAssertEqual(result.quarantine[0].field, "answers[1].text")
        XCTAssertTrue(result.quarantine[0].detail.contains("the end tag </b> at character 42 closes no open element"), result.quarantine[0].detail)
    }

    func testHTMLText() throws {
        XCTAssertEqual(try HTMLText.text("<ul><li>one</li><li>two &#x26; three</li></ul><p>x<br>y</p>"), "- one\n- two & three\n\nx\ny")
        XCTAssertEqual(try HTMLText.text("<!-- note --><p>a   b\n c</p>"), "a b c")
        XCTAssertEqual(try HTMLText.text("a &unknown; b"), "a &unknown; b")
        XCTAssertThrowsError(try HTMLText.text("<p>never closed <b"))
        XCTAssertThrowsError(try HTMLText.text("<!-- open"))
        XCTAssertThrowsError(try HTMLText.text("text</div>"))
    }

    /// Members and elements read over bytes decode to what the whole value decodes to (JSONValue,
    /// the independent reference); the bounded view keeps names and first elements.
    func testShallowJSONAgainstFullDecode() throws {
        let texts = [#"{"a": 1, "b": [1, {"c": "x,y]}"}, null], "d": {"e": "\"q\""}, "f": -2.5e3, "g": true}"#,
                     #" { "replies" : [ {"k": []}, {"k": [{}]} ] , "t":"é\u00e9" } "#, #"{}"#]
        for text in texts {
            let json = ShallowJSON(bytes: Array(text.utf8))
            let whole = try JSONValue.parse(Data(text.utf8)).objectValue!
            var rebuilt: [String: JSONValue] = [:]
            for (key, range) in try json.members(try json.root) { rebuilt[key] = try json.decode(range) }
            XCTAssertEqual(rebuilt, whole, text)
        }
        let array = ShallowJSON(bytes: Array(#"[1, "a]", [2, 3], {"x": [4]}]"#.utf8))
        XCTAssertEqual(try array.elements(try array.root).map { try array.decode($0) },
                       [.number(1), .string("a]"), .array([.number(2), .number(3)]), .object(["x": .array([.number(4)])])])
        let big = ShallowJSON(bytes: Array(#"{"prompt": {"message_id": "m", "replies": [{"text": "long enough"}, {"text": "cut"}]}}"#.utf8))
        let bounded = try big.bounded(try big.root, cap: 40)
        XCTAssertEqual(bounded["prompt"]?["message_id"], .string("m"))
        XCTAssertEqual(bounded["prompt"]?["replies"]?.arrayValue?.count, 1)
        for broken in [#"{"a": [1, 2}"#, #"{"a" 1}"#, #"{"a": "x"#] {
            let json = ShallowJSON(bytes: Array(broken.utf8))
            XCTAssertThrowsError(try json.members(try json.root), broken)
        }
    }

    func testNectarRanks() throws {
        let result = try importFiles([fixture("nectar.jsonl")])
        let counts = result.sources[0]
        XCTAssertEqual(counts.format, .nectar)
        assertCounts(counts, read: 2, accepted: 2)
        XCTAssertEqual(result.rankings[0].prompt.messages, [.user("What is the boiling point of water at sea level?")])
        XCTAssertEqual(result.rankings[0].ranks, [1, 2, 3])
        XCTAssertEqual(result.rankings[1].prompt.messages, [.user("Name a colour."), .assistant("Blue."), .user("Another one?")])
        XCTAssertEqual(counts.derived(.comparison), 3 + 1)
    }
}
