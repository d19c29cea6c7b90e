// Precision and recall of each step of the safety screen, on responses with a safety label
// (positive class = unsafe): the lexicon alone (a hit flags), the lexicon then the classifier (a
// hit flags only when the classifier also does: TigerBot's cascade), and the classifier alone
// (for reference; every labelled response is scored).
import Foundation

public struct DetectionCounts: Codable, Equatable, Sendable {
    public var truePositives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
    public var trueNegatives = 0

    public var precision: Double { truePositives + falsePositives > 0 ? Double(truePositives) / Double(truePositives + falsePositives) : .nan }
    public var recall: Double { truePositives + falseNegatives > 0 ? Double(truePositives) / Double(truePositives + falseNegatives) : .nan }

    mutating func add(flagged: Bool, unsafe: Bool) {
        switch (flagged, unsafe) {
        case (true, true): truePositives += 1
        case (true, false): falsePositives += 1
        case (false, true): falseNegatives += 1
        case (false, false): trueNegatives += 1
        }
    }
}

public struct ScreenFigures: Codable, Equatable, Sendable {
    public var labelled = 0
    public var unsafe = 0
    public var lexicon = DetectionCounts()
    /// Nil without a classifier.
    public var lexiconThenClassifier: DetectionCounts?
    public var classifier: DetectionCounts?

    /// One labelled response: its label, whether the lexicon hit, the classifier's verdict (nil without one).
    mutating func add(safe: Bool, lexiconHit: Bool, classifierFlags: Bool?) {
        labelled += 1
        if !safe { unsafe += 1 }
        lexicon.add(flagged: lexiconHit, unsafe: !safe)
        if let classifierFlags {
            lexiconThenClassifier = lexiconThenClassifier ?? DetectionCounts()
            lexiconThenClassifier!.add(flagged: lexiconHit && classifierFlags, unsafe: !safe)
            classifier = classifier ?? DetectionCounts()
            classifier!.add(flagged: classifierFlags, unsafe: !safe)
        }
    }

    var metrics: [String: Double] {
        var m: [String: Double] = ["labelled": Double(labelled), "labelled_unsafe": Double(unsafe)]
        for (name, counts) in [("lexicon", lexicon), ("lexicon_classifier", lexiconThenClassifier), ("classifier", classifier)] {
            guard let counts else { continue }
            m["\(name).precision"] = counts.precision
            m["\(name).recall"] = counts.recall
            m["\(name).flagged"] = Double(counts.truePositives + counts.falsePositives)
        }
        return m.filter { $0.value.isFinite }
    }
}
