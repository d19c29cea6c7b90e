import Foundation
import PlumbStore

/// The parts of a Label Studio labelling config (XML) that bind annotation results to task data.
/// Read with a small tag scanner: only start tags and their attributes matter here.
public struct LabelingConfig: Equatable, Sendable {
    /// Object tag name -> task data key (`<Text name="answer1" value="$answer1"/>`, also `<List>`, `<HyperText>`).
    public var objects: [String: String] = [:]
    /// Pairwise control name -> (left object, right object), from `toName="left,right"`.
    public var pairwise: [String: (left: String, right: String)] = [:]
    /// Ranker control name -> the list object it ranks and its buckets in config order.
    public var rankers: [String: (list: String, buckets: [String])] = [:]
    /// TextArea control name -> the object it annotates.
    public var textAreas: [String: String] = [:]

    public static func == (a: LabelingConfig, b: LabelingConfig) -> Bool {
        a.objects == b.objects && a.textAreas == b.textAreas
            && a.pairwise.mapValues { [$0.left, $0.right] } == b.pairwise.mapValues { [$0.left, $0.right] }
            && a.rankers.mapValues { [$0.list] + $0.buckets } == b.rankers.mapValues { [$0.list] + $0.buckets }
    }

    public init() {}

    public init(xml: String, file: String) throws {
        let tagPattern = try NSRegularExpression(pattern: #"<(/?)([A-Za-z]+)((?:\s+[A-Za-z_:-]+\s*=\s*"[^"]*")*)\s*(/?)>"#)
        let attributePattern = try NSRegularExpression(pattern: #"([A-Za-z_:-]+)\s*=\s*"([^"]*)""#)
        let text = xml as NSString
        var openRanker: String?
        for match in tagPattern.matches(in: xml, range: NSRange(location: 0, length: text.length)) {
            let closing = text.substring(with: match.range(at: 1)) == "/"
            let tag = text.substring(with: match.range(at: 2))
            if closing {
                if tag == "Ranker" { openRanker = nil }
                continue
            }
            var attributes: [String: String] = [:]
            let attributeText = text.substring(with: match.range(at: 3))
            for attribute in attributePattern.matches(in: attributeText, range: NSRange(location: 0, length: (attributeText as NSString).length)) {
                attributes[(attributeText as NSString).substring(with: attribute.range(at: 1))] = (attributeText as NSString).substring(with: attribute.range(at: 2))
            }
            let selfClosing = text.substring(with: match.range(at: 4)) == "/"
            try add(tag: tag, attributes: attributes, selfClosing: selfClosing, openRanker: &openRanker, file: file)
        }
    }

    private mutating func add(tag: String, attributes: [String: String], selfClosing: Bool, openRanker: inout String?, file: String) throws {
        guard let name = attributes["name"] else { return }
        switch tag {
        case "Text", "HyperText", "List", "Paragraphs":
            if let value = attributes["value"], value.hasPrefix("$") { objects[name] = String(value.dropFirst()) }
        case "Pairwise":
            let targets = (attributes["toName"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard targets.count == 2 else {
                throw InputError(file: file, field: "toName", reason: "Pairwise '\(name)' should name two objects in toName, found \(targets.count)")
            }
            pairwise[name] = (targets[0], targets[1])
        case "Ranker":
            rankers[name] = (attributes["toName"] ?? "", [])
            if !selfClosing { openRanker = name }
        case "Bucket":
            if let ranker = openRanker { rankers[ranker]?.buckets.append(name) }
        case "TextArea":
            if let target = attributes["toName"] { textAreas[name] = target }
        default:
            break
        }
    }
}
