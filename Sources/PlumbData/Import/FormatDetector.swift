import Foundation
import PlumbStore

/// Tells an input's format from the fields of its first parsable row, and says why. It reads only
/// the first `InputLimits.detectionBytes` of the file (through its own reader).
enum FormatDetector {
    /// The detection and the row it was made from (nil for CSV, told by the container).
    static func detect(_ path: String, options: ImportOptions) throws -> (Detection, InputRow?) {
        var limits = options.input
        limits.maxDecompressedBytes = min(limits.maxDecompressedBytes, limits.detectionBytes)
        let file = try InputFile(path, limits: limits, readFrom: options.location(path))
        file.boundedAbove = 1 << 20
        if file.container == .csv {
            let mapping = options.columnMapping
            if mapping.isEmpty, let detection = detectTable(keys: Set(file.csvHeader)) {
                return (Detection(format: detection.format, reason: "CSV header: " + detection.reason), nil)
            }
            if !mapping.isEmpty, let detection = detectTable(keys: InputFile.renaming(Set(file.csvHeader), mapping)) {
                try checkMapping(mapping, keys: Set(file.csvHeader), file: path, line: 1)
                return (Detection(format: detection.format, reason: "CSV header with --columns: " + detection.reason), nil)
            }
            let how = mapping.isEmpty ? "header names the fields" : "column mapping given"
            return (Detection(format: .csv, reason: "CSV file, \(how)"), nil)
        }
        var first: InputRow?
        var parsable: InputRow?
        var prefixUsedUp = false
        do {
            while parsable == nil, let row = try file.next() {
                if first == nil { first = row }
                if row.value != nil { parsable = row }
            }
        } catch let error as InputError where error.isDecompressedLimit {
            prefixUsedUp = true
        }
        guard let row = parsable, let value = row.value else {
            let prefix = prefixUsedUp ? " in the first \(limits.maxDecompressedBytes) bytes" : ""
            let example = first.map { " (line \($0.source.line): \($0.problem?.detail ?? ""))" }
                ?? (prefixUsedUp ? " (no complete row in them)" : " (the file has no rows)")
            throw InputError(file: path, reason: "cannot detect the format: no row\(prefix) parses as JSON\(example)")
        }
        var renamed = row
        if !options.columnMapping.isEmpty, let object = value.objectValue {
            try checkMapping(options.columnMapping, keys: Set(object.keys), file: path, line: row.source.line)
            renamed.value = .object(InputFile.renaming(object, options.columnMapping))
        }
        return (try detect(renamed.value!, line: row.source.line, file: path), renamed)
    }

    /// Every column `--columns` names must be among the fields the first row has.
    static func checkMapping(_ mapping: [String: String], keys: Set<String>, file: String, line: Int) throws {
        for (field, column) in mapping.sorted(by: { $0.key < $1.key }) where !keys.contains(column) {
            throw InputError(file: file, line: line, field: column,
                             reason: "--columns maps '\(field)' to '\(column)', which the first row does not have; its fields are: \(keys.sorted().joined(separator: ", "))")
        }
    }

    static func detect(_ value: JSONValue, line: Int, file: String) throws -> Detection {
        if let items = value.arrayValue, let first = items.first?.objectValue,
           first.keys.contains(where: { $0.hasPrefix("response-") }), first["user_id"] != nil || first["name"] != nil {
            return Detection(format: .argillaStudyRankings, reason: "rows are lists of per-annotator {response-N: rank, user_id}")
        }
        guard let object = value.objectValue else {
            throw InputError(file: file, line: line,
                             reason: "cannot detect the format: rows are \(value.typeName)s, not objects; pass --format")
        }
        let keys = Set(object.keys)
        if let detection = detect(keys: keys, object: object) { return detection }
        throw InputError(file: file, line: line,
                         reason: "cannot detect the format from the fields [\(keys.sorted().joined(separator: ", "))]; "
                            + "map them to a known layout with \(ColumnSuggestion.suggest(keys)), or pass --format")
    }

    /// The formats told by column names alone, so also from a CSV header: arena battles, labelled
    /// responses, A/B answers with per-aspect votes.
    static func detectTable(keys: Set<String>) -> Detection? {
        func has(_ names: String...) -> Bool { names.allSatisfy(keys.contains) }
        func any(_ names: [String]) -> String? { ColumnNames.first(names, in: keys) }
        if has("model_a", "model_b"), keys.contains("winner") || ArenaImporter.oneHot.contains(where: keys.contains),
           has("conversation_a", "conversation_b") || has("response_a", "response_b") {
            let vote = keys.contains("winner") ? "'winner'" : "one-hot 'winner_model_a/b/tie'"
            let turns = keys.contains("conversation_a") ? "'conversation_a/b'" : "'prompt' with 'response_a/b' turns"
            return Detection(format: .arena, reason: "'model_a'/'model_b' with \(vote) and \(turns) (arena battles)")
        }
        if let safe = any(ColumnNames.safe), let response = any(ColumnNames.response), let prompt = any(ColumnNames.prompt),
           !keys.contains("chosen") {
            return Detection(format: .labelledResponses, reason: "'\(prompt)', '\(response)' and a safety label '\(safe)' (labelled responses, BeaverTails style)")
        }
        let annotators = AnnotatorVotesImporter.annotatorColumns(keys)
        if let a = any(ColumnNames.responseA), let b = any(ColumnNames.responseB), !annotators.isEmpty, any(ColumnNames.overall) == nil {
            return Detection(format: .pandaLM, reason: "'\(a)'/'\(b)' with votes in \(annotators.map { "'\($0)'" }.joined(separator: ", ")) (several annotators, PandaLM style)")
        }
        if has("response 1", "response 2", "label") {
            return Detection(format: .autoJ, reason: "'response 1'/'response 2' with 'label' (Auto-J pairwise)")
        }
        if let a = any(ColumnNames.responseA), let b = any(ColumnNames.responseB), let overall = any(ColumnNames.overall) {
            let aspects = ColumnNames.aspects(in: keys).keys.sorted()
            let detail = aspects.isEmpty ? "" : " and per-aspect votes (\(aspects.joined(separator: ", ")))"
            return Detection(format: .pairwiseAspects, reason: "'\(a)'/'\(b)' with '\(overall)'\(detail) (A/B preferences)")
        }
        let attributes = RatingImporter.attributes.filter(keys.contains)
        if let prompt = any(ColumnNames.prompt), let response = any(ColumnNames.response), attributes.contains("helpfulness"), attributes.count >= 2 {
            return Detection(format: .ratings, reason: "'\(prompt)', '\(response)' rated on \(attributes.joined(separator: ", ")) (per-response ratings, HelpSteer style)")
        }
        if let prompt = any(ColumnNames.prompt), let response = any(ColumnNames.response), let label = any(FeedbackImporter.labelNames),
           !keys.contains("chosen"), !keys.contains("rejected") {
            return Detection(format: .feedback, reason: "'\(prompt)', '\(response)' with the judgement '\(label)' (unpaired feedback: KTO labels or thumbs)")
        }
        if has("message_id", "parent_id", "role", "text") {
            let grouping = keys.contains("message_tree_id") ? "grouped by 'message_tree_id'" : "grouped from root to root"
            return Detection(format: .openAssistantMessages, reason: "messages with 'message_id'/'parent_id', \(grouping) (OpenAssistant message table)")
        }
        return nil
    }

    private static func detect(keys: Set<String>, object: [String: JSONValue]) -> Detection? {
        func has(_ names: String...) -> Bool { names.allSatisfy(keys.contains) }
        if let detection = detectTable(keys: keys) { return detection }
        if let node = object["prompt"]?.objectValue, node["message_id"] != nil, node["role"] != nil {
            return Detection(format: .openAssistant, reason: "trees with a 'prompt' message and nested 'replies' (OpenAssistant tree export)")
        }
        if has("message_id", "role", "text", "replies") {
            return Detection(format: .openAssistant, reason: "root messages with nested 'replies' (OpenAssistant tree export)")
        }
        if let answers = object["answers"]?.arrayValue, let answer = answers.first?.objectValue {
            if has("question"), answer["pm_score"] != nil {
                return Detection(format: .stackExchange, reason: "'question' with 'answers' scored by 'pm_score' (Stack Exchange preferences)")
            }
            if has("prompt"), answer["rank"] != nil {
                return Detection(format: .nectar, reason: "'prompt' with ranked 'answers' (Nectar style)")
            }
        }
        if has("annotations") {
            return Detection(format: .labelStudio, reason: "tasks with 'annotations'\(has("data") ? " and 'data'" : "") (Label Studio export)")
        }
        if has("fields", "responses") { return Detection(format: .argilla, reason: "records with 'fields' and 'responses' (Argilla)") }
        if has("response_0", "response_1", "better_response_id", "safer_response_id") {
            return Detection(format: .pkuSafeRLHF, reason: "'response_0/1' with 'better_response_id' and 'safer_response_id'")
        }
        if has("instruction", "completions") { return Detection(format: .ultraFeedback, reason: "'instruction' with rated 'completions'") }
        if has("chosen", "rejected", "score_chosen", "score_rejected") {
            return Detection(format: .ultraFeedbackBinarized, reason: "'chosen'/'rejected' with 'score_chosen'/'score_rejected'")
        }
        if has("human_ref_A", "human_ref_B", "labels") { return Detection(format: .shp, reason: "'human_ref_A/B' with 'labels' (SHP)") }
        if has("question", "response_j", "response_k") {
            return Detection(format: .stackExchangePaired, reason: "'question' with 'response_j' (preferred) and 'response_k'")
        }
        if has("chosen_messages", "rejected_messages") {
            return Detection(format: .llamaFactory, reason: "'chosen_messages'/'rejected_messages' (LLaMA-Factory v1)")
        }
        if has("conversations", "chosen", "rejected") {
            return Detection(format: .llamaFactory, reason: "'conversations' with 'chosen'/'rejected' turns (LLaMA-Factory ShareGPT style)")
        }
        if has("instruction", "chosen", "rejected") {
            return Detection(format: .llamaFactory, reason: "'instruction' with 'chosen'/'rejected' strings (LLaMA-Factory Alpaca style)")
        }
        if has("chosen", "rejected") {
            if !has("prompt"), let chosen = object["chosen"]?.stringValue, chosen.contains("\n\nHuman:") || chosen.hasPrefix("Human:"),
               chosen.contains("\n\nAssistant:") {
                return Detection(format: .hhRLHF, reason: "'chosen'/'rejected' transcripts with \"Human:\"/\"Assistant:\" turns (Anthropic HH-RLHF)")
            }
            let prompt = TRLImporter.promptKey(keys).map { "with an explicit '\($0)'" } ?? "with an implicit prompt"
            let system = ColumnNames.first(ColumnNames.system, in: keys).map { " and '\($0)' as the system message" } ?? ""
            return Detection(format: .trl, reason: "'chosen'/'rejected' \(prompt)\(system) (TRL / DPO pairs)")
        }
        if keys.contains(where: { isArgillaQuestion(object[$0]) }) {
            return Detection(format: .argilla, reason: "question columns of [{user_id, value, status}] (Argilla Hugging Face export)")
        }
        if has("instruction", "output") { return Detection(format: .alpaca, reason: "'instruction'/'output' (Alpaca demonstrations)") }
        if has("instruction", "response-1") {
            return Detection(format: .argillaStudyResponses, reason: "'instruction' with 'response-1..k' and no rankings (Argilla study generations)")
        }
        if has("conversations") { return Detection(format: .shareGPT, reason: "'conversations' of {from, value} (ShareGPT)") }
        if has("messages") { return Detection(format: .messages, reason: "'messages' of {role, content}") }
        return nil
    }

    private static func isArgillaQuestion(_ value: JSONValue?) -> Bool {
        guard let list = value?.arrayValue, let first = list.first else { return false }
        return first["user_id"] != nil && first["value"] != nil
    }
}
