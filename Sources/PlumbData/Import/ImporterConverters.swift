import Foundation
import PlumbStore

/// The converter for each format.
extension Importer {
    /// The converter for `format`, a note for the detection line, and the columns it reads.
    func makeConverter(_ format: ImportFormat, file: InputFile, firstRow: InputRow?) throws -> (Converter, String?, [String: String]) {
        let keys = file.container == .csv ? InputFile.renaming(Set(file.csvHeader), file.rename)
            : Set(firstRow?.value?.objectValue?.keys.map { $0 } ?? [])
        switch format {
        case .arena:
            return (rows(ArenaImporter.convert), nil, ArenaImporter.columns(keys))
        case .labelledResponses:
            let columns = LabelledResponseImporter.columns(keys)
            return (rows { try LabelledResponseImporter.convert($0, columns: columns, $1) }, nil, columns)
        case .pairwiseAspects:
            let columns = PairwiseAspectsImporter.columns(keys)
            if let aspect = options.aspect, columns["aspect:" + aspect] == nil {
                let known = columns.keys.filter { $0.hasPrefix("aspect:") }.map { String($0.dropFirst(7)) }.sorted()
                throw InputError(file: file.path, line: 1, field: aspect + "_preference",
                                 reason: "--aspect \(aspect): no column '\(aspect)_preference'; aspects in this file: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
            }
            return (rows { try PairwiseAspectsImporter.convert($0, columns: columns, $1) }, nil, columns)
        case .trl:
            return (rows(TRLImporter.convert), nil, TRLImporter.columns(keys))
        case .feedback:
            let columns = FeedbackImporter.columns(keys)
            return (rows { try FeedbackImporter.convert($0, columns: columns, $1) }, nil, columns)
        case .ratings:
            let columns = RatingImporter.columns(keys)
            return (rows { try RatingImporter.convert($0, columns: columns, $1) }, nil, columns)
        case .openAssistant:
            return (.rawRows(OpenAssistantImporter.convertTree), languageNote, [:])
        case .openAssistantMessages:
            let options = self.options
            return (.groups(key: OpenAssistantMessagesImporter.groupKey,
                            convert: { OpenAssistantMessagesImporter.convertGroup($0, options: options) }), languageNote, [:])
        case .stackExchange:
            return (.rows { value, _, context in try StackExchangeImporter.convert(try RowFields(value), context) }, nil,
                    ColumnNames.fixed(format))
        case .csv:
            let mapping = try CSVImporter.mapping(header: file.csvHeader, given: options.columnMapping, file: file.path)
            return (rows { try CSVImporter.convert($0, mapping: mapping, $1) }, nil, mapping)
        default:
            let (converter, note) = try makeFixedConverter(format, file: file, firstRow: firstRow)
            return (converter, note, ColumnNames.fixed(format))
        }
    }

    private var languageNote: String? { options.language.map { "trees in language '\($0)' only" } }

    private func rows(_ convert: @escaping (RowFields, RowContext) throws -> [Record]) -> Converter {
        .rows { value, _, context in RowOutput(records: try convert(try RowFields(value), context)) }
    }

    /// Converters for the formats whose field names are fixed.
    private func makeFixedConverter(_ format: ImportFormat, file: InputFile, firstRow: InputRow?) throws -> (Converter, String?) {
        switch format {
        case .hhRLHF: return (rows(HHRLHFImporter.convert), nil)
        case .pkuSafeRLHF: return (rows(PKUSafeRLHFImporter.convert), nil)
        case .ultraFeedback: return (rows(UltraFeedbackImporter.convertRaw), nil)
        case .ultraFeedbackBinarized: return (rows(UltraFeedbackImporter.convertBinarized), nil)
        case .shp: return (rows(SHPImporter.convert), nil)
        case .stackExchangePaired: return (rows(StackExchangePairedImporter.convert), nil)
        case .llamaFactory: return (rows(LlamaFactoryImporter.convert), nil)
        case .alpaca: return (rows(SFTImporter.convertAlpaca), nil)
        case .shareGPT: return (rows(SFTImporter.convertShareGPT), nil)
        case .messages: return (rows(SFTImporter.convertMessages), nil)
        case .argilla: return (rows(ArgillaImporter.convert), nil)
        case .nectar: return (rows(NectarImporter.convert), nil)
        case .pandaLM: return (rows(AnnotatorVotesImporter.convertPandaLM), nil)
        case .autoJ: return (rows(AnnotatorVotesImporter.convertAutoJ), nil)
        case .argillaStudyResponses: return (rows(ArgillaStudyImporter.convertResponses), nil)
        case .argillaStudyRankings:
            let texts = try options.textsFile.map { try InputFile.objects($0, limits: options.input, readFrom: options.location($0)) { $0?.objectValue ?? [:] } }
            let note = options.textsFile.map { "texts from \($0)" }
            return (.rows { value, index, context in
                let row = texts.flatMap { index < $0.count ? $0[index] : nil }
                return RowOutput(records: try ArgillaStudyImporter.convertRankings(value, texts: row, context))
            }, note)
        case .labelStudio:
            return try labelStudioConverter(file, firstRow: firstRow)
        case .trl, .csv, .arena, .labelledResponses, .pairwiseAspects, .feedback, .ratings, .openAssistant,
             .openAssistantMessages, .stackExchange:
            preconditionFailure("\(format.rawValue) is built by makeConverter")
        }
    }

    /// Task data (`tasks.json` or `--texts`) is loaded when the first row has no `data` of its own.
    private func labelStudioConverter(_ file: InputFile, firstRow: InputRow?) throws -> (Converter, String?) {
        let directory = (file.path as NSString).deletingLastPathComponent
        var notes: [String] = []
        var config: LabelingConfig?
        let stem = RowContext.stem(file.path)
        let configPaths = ["\(stem)-config.xml", "config.xml"].map { (directory as NSString).appendingPathComponent($0) }
        if let xml = options.labelConfig {
            config = try LabelingConfig(xml: xml, file: "--label-config")
            notes.append("labelling config from --label-config")
        } else if let configPath = configPaths.first(where: { FileManager.default.fileExists(atPath: options.location($0)) }) {
            config = try LabelingConfig(xml: try String(contentsOfFile: options.location(configPath), encoding: .utf8), file: configPath)
            notes.append("labelling config \(configPath)")
        } else {
            notes.append("no labelling config: left/right bound to the two non-prompt text fields in name order")
        }
        var taskData: [[String: JSONValue]] = []
        let needsTasks = firstRow.map { $0.value?["data"] == nil } ?? true
        let tasksPath = options.textsFile ?? (directory as NSString).appendingPathComponent("tasks.json")
        if needsTasks, FileManager.default.fileExists(atPath: options.location(tasksPath)) {
            taskData = try InputFile.objects(tasksPath, limits: options.input, readFrom: options.location(tasksPath)) { $0?["data"]?.objectValue ?? [:] }
            notes.append("task data from \(tasksPath)")
        }
        let importer = LabelStudioImporter(config: config, taskData: taskData)
        return (.rows { value, index, context in
            let (records, problems) = try importer.convert(try RowFields(value), rowIndex: index, context)
            return RowOutput(records: records, problems: problems)
        }, notes.joined(separator: "; "))
    }
}
