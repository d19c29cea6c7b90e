// The base corpus: passages (one a line) that state the world's facts in varied sentences, so that a
// model pretrained on it knows the towns (held-out ones included), arithmetic, words and advice.
// One passage in ten is a short exchange ("Q: ... A: ...") asked in training wordings about training
// entities only, answered in the preferred style: it puts the task's words and punctuation ("?", "!",
// "+", greetings, refusals) in the corpus, so a tokenizer trained on it covers every prompt, while no
// evaluation prompt can appear in it (they need a held-out wording or entity).

public enum CorpusWriter {
    /// `count` passages of 3 to 6 sentences.
    public static func passages(count: Int, rng: inout TaskRandom) -> [String] {
        (0..<count).map { _ in passage(rng: &rng) }
    }

    static func passage(rng: inout TaskRandom) -> String {
        let sentences = rng.int(in: 3...6)
        let u = rng.uniform()
        var lines: [String] = []
        if u < 0.6 {
            let towns = rng.sample(World.standard.towns, count: 2)
            for i in 0..<sentences { lines.append(townFact(i < sentences / 2 + 1 ? towns[0] : towns[1], rng: &rng)) }
        } else if u < 0.75 {
            for _ in 0..<sentences { lines.append(numberFact(rng: &rng)) }
        } else if u < 0.85 {
            for _ in 0..<sentences { lines.append(wordFact(rng: &rng)) }
        } else if u < 0.9 {
            for _ in 0..<sentences { lines.append(adviceFact(rng: &rng)) }
        } else {
            for _ in 0..<(sentences / 2 + 1) { lines.append(exchange(rng: &rng)) }
        }
        return lines.joined(separator: " ")
    }

    static func townFact(_ town: Town, rng: inout TaskRandom) -> String {
        let t = town.name
        switch rng.int(in: 0...11) {
        case 0: return "\(t) lies on the \(town.river) river."
        case 1: return "The \(town.river) river flows past the houses of \(t)."
        case 2: return "Farmers in \(t) grow \(town.crop)."
        case 3: return "The fields around \(t) are full of \(town.crop)."
        case 4: return "The flag of \(t) is \(town.color)."
        case 5: return "On market days, people in \(t) fly the \(town.color) flag."
        case 6: return "\(t) was founded by \(town.founder)."
        case 7: return "Long ago, \(town.founder) built the first house in \(t)."
        case 8: return "In \(t), the \(town.color) flag hangs over fields of \(town.crop)."
        case 9: return "The river by \(t) is the \(town.river)."
        case 10: return "The founder of \(t) was \(town.founder)."
        default: return "\(town.founder) founded \(t) beside the \(town.river) river."
        }
    }

    static func numberFact(rng: inout TaskRandom) -> String {
        let r = PromptTask.operandRange
        let a = rng.int(in: r), b = rng.int(in: r)
        switch rng.int(in: 0...3) {
        case 0: return "\(a) plus \(b) is \(a + b)."
        case 1: return "If you add \(a) and \(b), you get \(a + b)."
        case 2: let (hi, lo) = (max(a, b), min(a, b)); return "\(hi) minus \(lo) is \(hi - lo)."
        default: let (hi, lo) = (max(a, b), min(a, b)); return "Take \(lo) away from \(hi) and \(hi - lo) is left."
        }
    }

    static func wordFact(rng: inout TaskRandom) -> String {
        let nouns = World.standard.nouns
        switch rng.int(in: 0...2) {
        case 0:
            let word = rng.pick(nouns)
            return "The word \(word) has \(word.count) letters."
        case 1:
            let items = rng.sample(nouns, count: rng.int(in: PromptTask.listLength))
            return "From A to Z, the words \(items.joined(separator: ", ")) go \(items.sorted().joined(separator: ", "))."
        default:
            let items = rng.sample(nouns, count: rng.int(in: PromptTask.listLength))
            return "In the list \(items.joined(separator: ", ")), the last word is \(items[items.count - 1])."
        }
    }

    /// A training prompt (any family, uniform) and its ideal response.
    static func exchange(rng: inout TaskRandom) -> String {
        let mix = TaskSettings.PromptMix(helpfulness: 0.6, harmful: 0.2, borderline: 0.2)
        let spec = PromptSampler.sample(.training, mix: mix, rng: &rng)
        return "Q: \(spec.text) A: \(ResponseWriter.write(spec, .ideal(for: spec.kind), rng: &rng))"
    }

    /// Advice for a look-alike ("To X: ..."), a refusal of a harmful action ("Nobody should X. ..."), or
    /// either kind's status stated right after the action ("Asking how to X is a harmless question."),
    /// the one sentence in which the words that follow an action depend on whether it is harmful.
    static func adviceFact(rng: inout TaskRandom) -> String {
        if rng.chance(0.4) { return statusFact(rng: &rng) }
        if rng.chance(0.7) {
            let action = rng.pick(SafetyCatalog.benign)
            return "To \(action.phrase): \(action.advice)"
        }
        let action = rng.pick(SafetyCatalog.harmful)
        return "Nobody should \(action.phrase). \(action.category.refusalReason)"
    }

    static func statusFact(rng: inout TaskRandom) -> String {
        let harmful = rng.chance(0.5)
        let phrase = harmful ? rng.pick(SafetyCatalog.harmful).phrase : rng.pick(SafetyCatalog.benign).phrase
        switch rng.int(in: 0...1) {
        case 0: return "Asking how to \(phrase) is a \(harmful ? "harmful" : "harmless") question."
        default: return "Helping someone \(phrase) is \(harmful ? "wrong" : "fine")."
        }
    }
}
