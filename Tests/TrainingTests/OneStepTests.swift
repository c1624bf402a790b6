/// Two CycleGAN training steps against the reference's, computed by PyTorch from the same
/// initial weights and batches (scripts/make_training_fixtures.py, `one_step_fixtures`).
import Foundation
import Models
import NeuralNet
import Tensors
import Testing

@testable import Training

struct OneStepCase: Decodable, CustomTestStringConvertible {
  var name: String
  var input_nc: Int
  var output_nc: Int
  var batch: Int
  var size: Int
  var gan_mode: String
  var lambda_identity: Double
  var ngf: Int
  var ndf: Int
  var losses: [[String: Float]]
  var testDescription: String { name }
}

let oneStepCases: [OneStepCase] = {
  let url = TestPaths.fixtures.appendingPathComponent("one_step.json")
  guard let data = try? Data(contentsOf: url),
    let cases = try? JSONDecoder().decode([OneStepCase].self, from: data)
  else { return [] }
  return cases
}()

/// The options of a fixture case: tiny networks, everything else at the reference's defaults.
func options(for testCase: OneStepCase) -> TrainingOptions {
  var options = TrainingOptions(folderA: "a", folderB: "b", name: "one-step")
  options.inputChannels = testCase.input_nc
  options.outputChannels = testCase.output_nc
  options.batchSize = testCase.batch
  options.loadSize = testCase.size
  options.cropSize = testCase.size
  options.ganMode = testCase.gan_mode == "lsgan" ? .lsgan : .vanilla
  options.lambdaIdentity = testCase.lambda_identity
  options.ngf = testCase.ngf
  options.ndf = testCase.ndf
  options.generator = .resnet6Blocks
  return options
}

/// Whether `key` is the bias of a convolution followed by an instance norm, which subtracts the
/// mean the bias adds: its gradient is zero in exact arithmetic, and both PyTorch and Transmute
/// hold rounding noise there (about 1e-6). In the 6-block generator only the last convolution
/// (`model.23`) is free of a norm; in the PatchGAN the first and last (`model.0`, `model.11`).
func biasBeforeInstanceNorm(_ role: NetworkRole, _ key: String) -> Bool {
  guard key.hasSuffix(".bias") else { return false }
  let free = role.isGenerator ? ["model.23.bias"] : ["model.0.bias", "model.11.bias"]
  return !free.contains(key)
}

@Suite struct OneStepTests {
  @Test func fixturesArePresent() {
    #expect(oneStepCases.count == 2)
  }

  @Test(arguments: oneStepCases)
  func matchesTheReferenceStep(_ testCase: OneStepCase) throws {
    let fixture = try loadFixture("one_step_\(testCase.name).safetensors").tensors
    let options = options(for: testCase)
    try options.validate()
    let model = CycleGAN(options: options)
    for (role, network) in model.networks {
      let prefix = "init.\(role.rawValue)."
      let weights = fixture.filter { $0.key.hasPrefix(prefix) }
      try network.loadStateDictionary(
        Dictionary(
          uniqueKeysWithValues: weights.map { (String($0.key.dropFirst(prefix.count)), $0.value) }))
    }

    var fakeAPool = ImagePool(capacity: options.poolSize)
    var fakeBPool = ImagePool(capacity: options.poolSize)
    for step in 1...2 {
      let realA = try #require(fixture["input.step\(step).A"])
      let realB = try #require(fixture["input.step\(step).B"])
      let (losses, _) = model.step(
        realA: realA, realB: realB, fakeAPool: &fakeAPool, fakeBPool: &fakeBPool,
        random: StepRandoms(
          fakeAPool: RandomGenerator(seed: 1), fakeBPool: RandomGenerator(seed: 2),
          dropoutSeed: 3))

      // The eight losses of the step.
      let expected = testCase.losses[step - 1]
      let names = losses.named.map(\.name)
      expectClose(
        losses.named.map(\.value), names.map { expected[$0] ?? .nan }, rtol: 1e-4, atol: 1e-6,
        "\(testCase.name) step \(step) losses \(names)")

      // Step 1's gradients: of the G objective for the generators, of the D losses for the
      // discriminators. Where the exact gradient is zero, only smallness is checked.
      if step == 1 {
        for (role, network) in model.networks {
          for (name, parameter) in network.namedParameters() {
            let reference = try #require(fixture["grad.step1.\(role.rawValue).\(name)"])
            let gradient = try #require(parameter.gradient, "\(role.rawValue).\(name)")
            let scale = reference.scalars.map(abs).max() ?? 0
            if biasBeforeInstanceNorm(role, name) {
              #expect(
                gradient.scalars.allSatisfy { abs($0) < 1e-4 } && scale < 1e-4,
                "\(role.rawValue).\(name): \(gradient.scalars.prefix(4)) against \(scale)")
            } else {
              expectClose(
                gradient.scalars, reference.scalars, rtol: 1e-3, atol: 1e-4 * scale,
                "\(testCase.name) gradient of \(role.rawValue).\(name)")
            }
          }
        }
      }
    }

    // The weights after both Adam steps. Where the gradient is rounding noise, Adam still moves
    // the weight by up to about lr a step in a direction the noise picks: allow 2·lr·steps.
    for (role, network) in model.networks {
      for entry in network.stateDictionary() {
        let key = "\(role.rawValue).\(entry.name)"
        let reference = try #require(fixture["after.step2.\(key)"])
        let noisy = biasBeforeInstanceNorm(role, entry.name)
        expectClose(
          entry.value.scalars, reference.scalars, rtol: noisy ? 0 : 1e-4,
          atol: noisy ? Float(4 * options.learningRate) : 2e-6,
          "\(testCase.name) weights of \(key) after two steps")
      }
    }
  }
}
