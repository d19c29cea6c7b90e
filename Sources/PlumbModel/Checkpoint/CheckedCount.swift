// Sizes computed from numbers read out of a file: a header can name values whose product or sum
// overflows `Int`, so these return nil instead of wrapping (release builds use -Ounchecked here).
enum CheckedCount {
    /// The product of `factors`; nil when one is nil or the product overflows.
    static func product(_ factors: [Int?]) -> Int? {
        factors.reduce(1 as Int?) { n, f in
            guard let n, let f else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: f)
            return overflow ? nil : p
        }
    }

    /// The sum of `terms`; nil when one is nil or the sum overflows.
    static func sum(_ terms: [Int?]) -> Int? {
        terms.reduce(0 as Int?) { n, t in
            guard let n, let t else { return nil }
            let (s, overflow) = n.addingReportingOverflow(t)
            return overflow ? nil : s
        }
    }
}
