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
// Two members of the family need no reference (METHODS.md section 12); with m = log pi(y|x) / |y|,
// the mean token log-probability:
//   simpo    (Meng et al. 2024)  r = beta m;  L = -log s(r_w - r_l - gamma)
//   orpo     (Hong et al. 2024)  log odds(y) = m - log(1 - e^m);
//                                L = -m_w + beta * -log s(log odds(y_w) - log odds(y_l))   (beta is ORPO's lambda, as TRL)
//
// `lengthNormalised` averages every log-probability over its response tokens before h (ipo always does).
// The implicit rewards TRL reports are beta (log pi - log ref) of each response; SimPO's and ORPO's
// are beta m (TRL's CPO/ORPO trainers).
import Foundation

public enum DPOLossKind: String, Codable, CaseIterable, Sendable {
    case sigmoid, robust, ipo, hinge, simpo, orpo

    /// Whether the loss compares against a reference policy (SimPO and ORPO do not).
    public var needsReference: Bool { self != .simpo && self != .orpo }
}

/// A stage's option group: its keys are `loss` (the kind), `beta`, `label-smoothing`, `rpo`,
/// `length-normalised` and `gamma`.
public struct DPOLoss: ParameterGroup, Equatable {
    public var kind: DPOLossKind = .sigmoid
    public var beta: Double = 0.1
    /// e of the robust loss.
    public var labelSmoothing: Double = 0
    /// Weight of the NLL term on the chosen response (0: off).
    public var rpo: Double = 0
    public var lengthNormalised = false
    /// SimPO's target reward margin gamma (TRL's `simpo_gamma`).
    public var gamma: Double = 0.5

    public init(kind: DPOLossKind = .sigmoid, beta: Double = 0.1, labelSmoothing: Double = 0, rpo: Double = 0, lengthNormalised: Bool = false,
                gamma: Double = 0.5) {
        self.kind = kind; self.beta = beta; self.labelSmoothing = labelSmoothing; self.rpo = rpo; self.lengthNormalised = lengthNormalised
        self.gamma = gamma
    }

    enum CodingKeys: String, CodingKey { case kind = "loss", beta, labelSmoothing, rpo, lengthNormalised, gamma }

    /// Decodes settings saved before `gamma` existed (it then takes its default).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try c.decode(DPOLossKind.self, forKey: .kind), beta: try c.decode(Double.self, forKey: .beta),
                  labelSmoothing: try c.decode(Double.self, forKey: .labelSmoothing), rpo: try c.decode(Double.self, forKey: .rpo),
                  lengthNormalised: try c.decode(Bool.self, forKey: .lengthNormalised),
                  gamma: try c.decodeIfPresent(Double.self, forKey: .gamma) ?? 0.5)
    }

    public func validate() throws {
        guard beta > 0 else { throw StageError("dpo: beta must be positive; got \(beta)") }
        guard labelSmoothing >= 0, labelSmoothing < 0.5 else { throw StageError("dpo: label smoothing must be in [0, 0.5); got \(labelSmoothing)") }
        guard rpo >= 0 else { throw StageError("dpo: the RPO weight must be at least 0; got \(rpo)") }
        guard gamma >= 0 else { throw StageError("dpo: SimPO's gamma must be at least 0; got \(gamma)") }
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
        if !kind.needsReference { return referenceFree(chosen: w, rejected: l) }
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
        case .simpo, .orpo:
            preconditionFailure("reference-free losses are evaluated by referenceFree")
        }
        var dChosen = dh / nw
        if rpo > 0 {
            loss += -rpo * w.policy / Double(max(w.tokens, 1))
            dChosen += -rpo / Double(max(w.tokens, 1))
        }
        return Value(loss: loss, dChosen: dChosen, dRejected: -dh / nl, rewardChosen: beta * ratioW, rewardRejected: beta * ratioL)
    }

    /// SimPO and ORPO, from the mean token log-probabilities m_w, m_l (the references are not read).
    func referenceFree(chosen w: Response, rejected l: Response) -> Value {
        let nw = Double(max(w.tokens, 1)), nl = Double(max(l.tokens, 1))
        let mw = w.policy / nw, ml = l.policy / nl
        var loss: Double, dmw: Double, dml: Double
        if kind == .simpo {
            let d = beta * (mw - ml) - gamma
            loss = -logSigmoid(d)
            dmw = -beta * sigmoid(-d)
            dml = -dmw
        } else {
            // d log odds / dm = 1 / (1 - e^m); -expm1(m) is 1 - e^m without cancellation near m = 0.
            let oneMinusW = max(-expm1(mw), .leastNormalMagnitude), oneMinusL = max(-expm1(ml), .leastNormalMagnitude)
            let d = (mw - log(oneMinusW)) - (ml - log(oneMinusL))
            loss = -mw - beta * logSigmoid(d)
            dmw = -1 - beta * sigmoid(-d) / oneMinusW
            dml = beta * sigmoid(-d) / oneMinusL
        }
        var dChosen = dmw / nw
        if rpo > 0 {
            loss += -rpo * mw
            dChosen += -rpo / nw
        }
        return Value(loss: loss, dChosen: dChosen, dRejected: dml / nl, rewardChosen: beta * mw, rewardRejected: beta * ml)
    }

    /// log s(x), stable for large |x|.
    func logSigmoid(_ x: Double) -> Double { x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)) }
    func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
}
