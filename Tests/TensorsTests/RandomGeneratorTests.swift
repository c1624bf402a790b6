import Foundation
import Testing

@testable import Tensors

@Test func generatorMatchesAnIndependentImplementation() {
  let reference = OperationFixtures.shared.random
  var generator = RandomGenerator(seed: reference.seed)
  #expect(reference.firstBits.count == 8)
  for (index, expected) in reference.firstBits.enumerated() {
    let bits = generator.next()
    #expect(bits == expected, "64-bit draw \(index): \(bits), expected \(expected)")
  }
  for (index, expected) in reference.thenUniformFloats.enumerated() {
    let value = generator.nextUniformFloat()
    #expect(value == Float(expected), "uniform draw \(index): \(value), expected \(expected)")
  }
  for (index, expected) in reference.thenNormals.enumerated() {
    let value = generator.nextNormal()
    #expect(abs(value - expected) <= 1e-14, "normal draw \(index): \(value), expected \(expected)")
  }
}

@Test func sameSeedSameTensorsDifferentSeedDifferent() {
  var first = RandomGenerator(seed: 2026)
  var second = RandomGenerator(seed: 2026)
  var other = RandomGenerator(seed: 2027)
  let a = Tensor.randomNormal(shape: [3, 4], using: &first)
  let b = Tensor.randomNormal(shape: [3, 4], using: &second)
  let c = Tensor.randomNormal(shape: [3, 4], using: &other)
  #expect(a.scalars == b.scalars)
  #expect(a.scalars != c.scalars)
}

@Test func normalAndUniformHaveTheirMoments() {
  var generator = RandomGenerator(seed: 5)
  let count = 200_000
  let normal = Tensor.randomNormal(
    shape: [count], mean: 1.5, standardDeviation: 0.02, using: &generator
  ).scalars
  let normalMean = normal.reduce(0.0) { $0 + Double($1) } / Double(count)
  let normalDeviation =
    (normal.reduce(0.0) { $0 + (Double($1) - normalMean) * (Double($1) - normalMean) }
    / Double(count)).squareRoot()
  // Standard errors: 0.02/√n ≈ 4.5e-5 for the mean, about 3.2e-5 for the deviation.
  #expect(abs(normalMean - 1.5) < 3e-4, "normal mean \(normalMean)")
  #expect(abs(normalDeviation - 0.02) < 2e-4, "normal deviation \(normalDeviation)")

  let uniform = Tensor.randomUniform(
    shape: [count], lowerBound: -2, upperBound: 3, using: &generator
  ).scalars
  let uniformMean = uniform.reduce(0.0) { $0 + Double($1) } / Double(count)
  #expect(uniform.allSatisfy { $0 >= -2 && $0 < 3 })
  #expect(abs(uniformMean - 0.5) < 0.02, "uniform mean \(uniformMean)")
}

@Test func portableLogarithmIsAccurate() {
  for value in [1e-300, 1e-8, 0.001, 0.5, 0.7071, 0.99999, 1, 1.5, 2, 3.75, 1e10] {
    let expected = _exactLogarithmForTest(value)
    #expect(
      abs(portableLogarithm(value) - expected) <= 4e-16 * max(1, abs(expected)),
      "log(\(value)) = \(portableLogarithm(value)), expected \(expected)")
  }
}

/// The platform logarithm, only as a test oracle (accurate to an ulp).
private func _exactLogarithmForTest(_ value: Double) -> Double {
  Foundation.log(value)
}

@Test func dropoutZeroesAboutTheProbabilityAndScalesTheRest() {
  var generator = RandomGenerator(seed: 9)
  let input = Tensor(shape: [4, 8, 25, 25], repeating: 2, requiresGradient: true)
  let output = dropout(input, probability: 0.3, using: &generator)
  let values = output.scalars
  let zeroFraction = Double(values.filter { $0 == 0 }.count) / Double(values.count)
  #expect(abs(zeroFraction - 0.3) < 0.01, "zero fraction \(zeroFraction)")
  #expect(values.allSatisfy { $0 == 0 || abs($0 - 2 / 0.7) < 1e-6 })

  // The gradient goes through the same mask.
  output.sum().backward()
  let gradient = input.gradient?.scalars ?? []
  #expect(zip(values, gradient).allSatisfy { ($0 == 0) == ($1 == 0) })
  #expect(gradient.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })

  // Seeded: the same seed gives the same mask.
  var again = RandomGenerator(seed: 9)
  #expect(dropout(input, probability: 0.3, using: &again).scalars == values)
  #expect(dropout(input, probability: 0, using: &again).scalars == input.scalars)
}
