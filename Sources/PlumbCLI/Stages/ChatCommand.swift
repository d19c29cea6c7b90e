// `plumb chat`: talk to a policy. Interactive by default (the conversation so far is the prompt of
// each turn; `exit`, `quit` or `bye` ends it, as the seed chatbot does), or one-shot with --prompt.
// Tokens are printed as they are generated.
import ArgumentParser
import Foundation
import PlumbData
import PlumbStages
import PlumbTensor

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "chat", abstract: "Chat with a policy checkpoint.")

    @Option(help: "Model: a training stage directory or a Hugging Face directory.") var model: String
    @Option(help: "SentencePiece model (.model).") var tokenizer: String
    @Option(help: "Chat template.") var template: ChatTemplate = .plumbline
    @Option(help: "A system message for the conversation.") var system: String?
    @Option(help: "Answer this one prompt and exit (for scripts).") var prompt: String?
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "Most new tokens per response.") var maxNewTokens: Int = 128
    @Option(help: "Seed of the sampler.") var seed: UInt64 = 1

    var settings: SamplingSettings {
        SamplingSettings(temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP, maxNewTokens: maxNewTokens,
                         weights: sampling.decode.weights)
    }

    func run() throws {
        let policy = try StageModel.load(URL(fileURLWithPath: model))
        let templated = try TemplatedTokenizer(tokenizer: try Tokenizer(modelFile: tokenizer), template: template)
        let decoder = try StreamingDecoder(model: policy, format: sampling.decode.weights)
        var rng = SeededRNG(seed: seed)
        var history: [Message] = system.map { [.system($0)] } ?? []

        func answer(_ text: String) throws {
            history.append(.user(text))
            let reply = try decoder.reply(to: try templated.encodePrompt(history), settings: settings, templated: templated, rng: &rng) {
                print($0, terminator: "")
                fflush(stdout)
            }
            print("")
            history.append(.assistant(reply))
        }

        if let prompt {
            try answer(prompt)
            return
        }
        print("Chatting with \(model) (type exit, quit or bye to end).")
        while true {
            print("> ", terminator: "")
            fflush(stdout)
            guard let line = readLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if ["exit", "quit", "bye"].contains(text.lowercased()) { break }
            if text.isEmpty { continue }
            try answer(text)
        }
    }
}
