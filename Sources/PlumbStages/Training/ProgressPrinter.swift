// Shows training progress: on a terminal one line rewritten in place (step, loss, tokens/s, ETA);
// otherwise (a log, CI) a plain line every `logInterval` seconds and at evaluations and the end.
import Foundation

public final class ProgressPrinter {
    private let isTerminal: Bool
    private let logInterval: Double
    private let label: String
    private var lastLogged: Double = -1e9

    public init(label: String, logInterval: Double = 10) {
        self.label = label
        self.logInterval = logInterval
        self.isTerminal = isatty(STDERR_FILENO) != 0
    }

    public func handle(_ event: TrainingProgress) {
        switch event {
        case .started(let total, let resumed):
            emit(resumed > 0 ? "\(label): resuming at step \(resumed) of \(total)" : "\(label): \(total) steps", newline: true)
        case .step(let r) where r.skipped:
            emit(String(format: "%@ step %d/%d: non-finite loss %g or gradient norm %g, no update (skipped)",
                        label, r.step, r.totalSteps, r.loss, r.gradNorm), newline: true)
        case .step(let r):
            let line = String(format: "%@ step %d/%d  loss %.4f  lr %.2e  %.0f tok/s  ETA %@",
                              label, r.step, r.totalSteps, r.loss, r.learningRate, r.tokensPerSecond,
                              ProgressPrinter.duration(r.etaSeconds))
            if isTerminal {
                emit(line, newline: false)
            } else if r.elapsedSeconds - lastLogged >= logInterval || r.step == r.totalSteps {
                lastLogged = r.elapsedSeconds
                emit(line, newline: true)
            }
        case .evaluation(let e):
            let figures = e.metrics.keys.sorted().map { String(format: "%@ %.4f", $0, e.metrics[$0]!) }.joined(separator: "  ")
            emit("\(label) eval at step \(e.step): \(figures)", newline: true)
        case .checkpoint(let step, let path):
            if !isTerminal { emit("\(label) checkpoint at step \(step): \(path)", newline: true) }
        case .finished(let step):
            emit("\(label): finished at step \(step)", newline: true)
        }
    }

    private func emit(_ text: String, newline: Bool) {
        let out = isTerminal ? "\r\u{1B}[2K" + text + (newline ? "\n" : "") : text + "\n"
        FileHandle.standardError.write(Data(out.utf8))
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
