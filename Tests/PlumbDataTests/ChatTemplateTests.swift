// Chat templates: exact prompt/response boundaries in token space, a single BOS, Llama 2 layout.
import PlumbTestSupport
import XCTest
@testable import PlumbData

final class ChatTemplateTests: XCTestCase {
    func testResponseTokensAreExactlyTheResponseTokens() throws {
        let tokenizer = try SmallTokenizer.get().tokenizer
        let comparisons = try importFiles([try sharedData("hh-rlhf/harmless-base-test.head1500.jsonl.gz")]).comparisons.prefix(200)
        for template in ChatTemplate.allCases {
            let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: template)
            for comparison in comparisons {
                let example = try templated.encode(prompt: comparison.prompt.messages, response: comparison.chosen)
                XCTAssertEqual(Array(example.responseTokens), try tokenizer.encode(comparison.chosen) + [2])
                XCTAssertEqual(Array(example.promptTokens), try templated.encodePrompt(comparison.prompt.messages))
                XCTAssertEqual(example.tokens.first, 1)
                let turns = comparison.prompt.messages.filter { $0.role == .user }.count
                XCTAssertEqual(example.tokens.filter { $0 == 1 }.count, template == .llama2 ? turns : 1, "one BOS per user turn (llama2) or one in all")
            }
        }
    }

    func testLiteralBOSTextNeverBecomesABOSId() throws {
        let tokenizer = try SmallTokenizer.get().tokenizer
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: .plumbline)
        let example = try templated.encode(prompt: [.user("<s>hello</s>")], response: "<s>bye")
        XCTAssertEqual(example.tokens.filter { $0 == 1 }.count, 1)
        XCTAssertEqual(example.tokens.filter { $0 == 2 }.count, 1)
        XCTAssertEqual(example.tokens.last, 2)
    }

    func testLlama2LayoutMatchesMetaFormat() throws {
        let tokenizer = try SmallTokenizer.get().tokenizer
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: .llama2)
        let messages: [Message] = [.system("Be brief."), .user("Hi"), .assistant("Hello."), .user("Name a colour.")]
        let tokens = try templated.encodePrompt(messages)
        // Independent construction from the published layout.
        let first = try tokenizer.encode("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST]")
        let expected: [Int32] = [1] + first + (try tokenizer.encode("Hello.")) + [2] + [1] + (try tokenizer.encode("[INST] Name a colour. [/INST]"))
        XCTAssertEqual(tokens, expected)
        XCTAssertEqual(try tokenizer.decode(tokens), "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello. [INST] Name a colour. [/INST]", "the dummy-prefix space stands for the spaces Meta writes")
        XCTAssertThrowsError(try templated.encodePrompt([.user("a"), .user("b")]))
        XCTAssertThrowsError(try templated.encodePrompt([.user("a"), .assistant("b")]))
    }

    func testPlumblineLayoutAndInfo() throws {
        let tokenizer = try SmallTokenizer.get().tokenizer
        let templated = try TemplatedTokenizer(tokenizer: tokenizer, template: .plumbline)
        let ids = templated.info.specialTokens
        let tokens = try templated.encodePrompt([.system("S"), .user("U"), .assistant("A"), .user("V")])
        let expected: [Int32] = [1, ids["<|system|>"]!] + (try tokenizer.encode("S")) + [ids["<|user|>"]!] + (try tokenizer.encode("U"))
            + [ids["<|assistant|>"]!] + (try tokenizer.encode("A")) + [2, ids["<|user|>"]!] + (try tokenizer.encode("V")) + [ids["<|assistant|>"]!]
        XCTAssertEqual(tokens, expected)
        // The info recorded in artifacts round-trips through JSON.
        let data = try JSONEncoder().encode(templated.info)
        XCTAssertEqual(try JSONDecoder().decode(ChatTemplateInfo.self, from: data), templated.info)
        XCTAssertEqual(templated.info.template, .plumbline)
    }

    func testPlumblineTemplateNeedsItsPieces() throws {
        let path = try sharedData("llama2c/llama2-tokenizer.model")
        let llama = try Tokenizer(modelFile: path)
        XCTAssertThrowsError(try TemplatedTokenizer(tokenizer: llama, template: .plumbline)) {
            XCTAssertTrue("\($0)".contains("<|system|>"), "\($0)")
        }
        let templated = try TemplatedTokenizer(tokenizer: llama, template: .llama2)
        let example = try templated.encode(prompt: [.user("What is 2+2?")], response: "4")
        XCTAssertEqual(Array(example.responseTokens), try llama.encode("4") + [2])
        XCTAssertEqual(example.tokens.filter { $0 == 1 }.count, 1)
    }
}
