/// The eight loss terms of one CycleGAN step, named as the reference prints them.
import Foundation

public struct Losses: Codable, Sendable, Equatable {
  /// Generator A's adversarial loss: D_A(G_A(A)) against "real".
  public var generatorA: Float = 0
  /// Generator B's adversarial loss: D_B(G_B(B)) against "real".
  public var generatorB: Float = 0
  /// Discriminator A's loss: 0.5 (real B against "real" + pooled G_A(A) against "fake").
  public var discriminatorA: Float = 0
  /// Discriminator B's loss: 0.5 (real A against "real" + pooled G_B(B) against "fake").
  public var discriminatorB: Float = 0
  /// λ_A · |G_B(G_A(A)) − A|₁.
  public var cycleA: Float = 0
  /// λ_B · |G_A(G_B(B)) − B|₁.
  public var cycleB: Float = 0
  /// λ_B · λ_identity · |G_A(B) − B|₁.
  public var identityA: Float = 0
  /// λ_A · λ_identity · |G_B(A) − A|₁.
  public var identityB: Float = 0

  public init() {}

  /// The reference's names and the values, in its order.
  public var named: [(name: String, value: Float)] {
    [
      ("D_A", discriminatorA), ("G_A", generatorA), ("cycle_A", cycleA), ("idt_A", identityA),
      ("D_B", discriminatorB), ("G_B", generatorB), ("cycle_B", cycleB), ("idt_B", identityB),
    ]
  }

  /// The total generator objective that the G step minimises.
  public var generatorTotal: Float {
    generatorA + generatorB + cycleA + cycleB + identityA + identityB
  }

  /// `D_A 0.251 G_A 0.873 …`, for progress lines.
  public var summary: String {
    named.map { "\($0.name) \(formatLoss($0.value))" }.joined(separator: " ")
  }

  enum CodingKeys: String, CodingKey {
    case generatorA = "G_A"
    case generatorB = "G_B"
    case discriminatorA = "D_A"
    case discriminatorB = "D_B"
    case cycleA = "cycle_A"
    case cycleB = "cycle_B"
    case identityA = "idt_A"
    case identityB = "idt_B"
  }
}

/// A loss with three significant decimals, the form used in logs.
func formatLoss(_ value: Float) -> String {
  String(format: "%.3f", Double(value))
}
