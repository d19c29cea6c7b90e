// Direct preference optimisation losses over one pair (../shared/docs/METHODS.md section 6; Rafailov
// et al. 2023, eq. 7). With log-probabilities of the response tokens under the policy (pi) and the
// reference (ref), for the chosen (w) and rejected (l) responses:
//
//   h = (log pi(y_w|x) - log ref(y_w|x)) - (log pi(y_l|x) - log ref(y_l|x))
//   sigmoid  (DPO)               L = -log s(beta h)
//   robust   (conservative DPO)  L = -(1 - e) log s(beta h) - e log s(-beta h)      (label smoothing e)
//   ipo      (Azar et al. 2023)  L = (h - 1 / (2 beta))^2, on log-probabilities averaged per token (TRL)
//   hinge    (SLiC)              L = max(0, 1 - beta h)
//   + rpo * NLL(y_w) = -rpo * log pi(y_w|x) / |y_w|                                   (RPO, Pang et al. 2024)
//
// `lengthNormalised` averages every log-probability over its response tokens before h (ipo always does).
// The implicit rewards TRL reports are beta (log pi - log ref) of each response.
import Foundation

public enum DPOLossKind: String, Codable, CaseIterable, Sendable {
    case sigmoid, robust, ipo, hinge
}

public struct DPOLoss: Codable, Equatable, Sendable {
    public var kind: DPOLossKind = .sigmoid
    public var beta: Double = 0.1
    /// e of the robust loss.
    public var labelSmoothing: Double = 0
    /// Weight of the NLL term on the chosen response (0: off).
    public var rpo: Double = 0
    public var lengthNormalised = false

    public init(kind: DPOLossKind = .sigmoid, beta: Double = 0.1, labelSmoothing: Double = 0, rpo: Double = 0, lengthNormalised: Bool = false) {
        self.kind = kind; self.beta = beta; self.labelSmoothing = labelSmoothing; self.rpo = rpo; self.lengthNormalised = lengthNormalised
    }

    public func validate() throws {
        guard beta > 0 else { throw StageError("dpo: beta must be positive; got \(beta)") }
        guard labelSmoothing >= 0, labelSmoothing < 0.5 else { throw StageError("dpo: label smoothing must be in [0, 0.5); got \(labelSmoothing)") }
        guard rpo >= 0 else { throw StageError("dpo: the RPO weight must be at least 0; got \(rpo)") }
    }

    /// One response's log-probability sums and token counts under the policy and the reference.
    public struct Response: Equatable, Sendable {
        public var policy: Double
        public var reference: Double
        public var tokens: Int
        public init(policy: Double, reference: Double, tokens: Int) {
            self.policy = policy; self.reference = reference; self.tokens = tokens
        }
    }

    public struct Value: Equatable, Sendable {
        public var loss: Double
        /// dL / d log pi(y_w|x) and dL / d log pi(y_l|x) (of the sums).
        public var dChosen: Double
        public var dRejected: Double
        /// beta (log pi - log ref) of each response, on the scale h uses.
        public var rewardChosen: Double
        public var rewardRejected: Double
    }

    var averages: Bool { lengthNormalised || kind == .ipo }

    public func evaluate(chosen w: Response, rejected l: Response) -> Value {
        let nw = averages ? Double(max(w.tokens, 1)) : 1, nl = averages ? Double(max(l.tokens, 1)) : 1
        let ratioW = (w.policy - w.reference) / nw, ratioL = (l.policy - l.reference) / nl
        let h = ratioW - ratioL
        var loss: Double, dh: Double
        switch kind {
        case .sigmoid:
            loss = -logSigmoid(beta * h)
            dh = -beta * sigmoid(-beta * h)
        case .robust:
            let e = labelSmoothing
            loss = -(1 - e) * logSigmoid(beta * h) - e * logSigmoid(-beta * h)
            dh = -beta * ((1 - e) * sigmoid(-beta * h) - e * sigmoid(beta * h))
        case .ipo:
            let d = h - 1 / (2 * beta)
            loss = d * d
            dh = 2 * d
        case .hinge:
            loss = max(0, 1 - beta * h)
            dh = beta * h < 1 ? -beta : 0
        }
        var dChosen = dh / nw
        if rpo > 0 {
            loss += -rpo * w.policy / Double(max(w.tokens, 1))
            dChosen += -rpo / Double(max(w.tokens, 1))
        }
        return Value(loss: loss, dChosen: dChosen, dRejected: -dh / nl, rewardChosen: beta * ratioW, rewardRejected: beta * ratioL)
    }

    /// log s(x), stable for large |x|.
    func logSigmoid(_ x: Double) -> Double { x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)) }
    func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
}
