/// Adam and SGD against torch.optim over ten steps (Fixtures/optimizers.json).
import Foundation
import Testing

@testable import NeuralNet
@testable import Tensors

struct OptimizersFixture: Decodable {
  struct Options: Decodable {
    var lr: Double
    var betas: [Double]?
    var eps: Double?
    var weight_decay: Double?
    var momentum: Double?
    var dampening: Double?
    var nesterov: Bool?
  }
  struct Run: Decodable {
    var name: String
    var kind: String
    var options: Options
    var losses: [Float]
    var weights: [FixtureTensor]
    var biases: [FixtureTensor]
  }
  var input: FixtureTensor
  var target: FixtureTensor
  var weight: FixtureTensor
  var bias: FixtureTensor
  var runs: [Run]
}

@Suite struct OptimizerTests {
  static let fixture = Result { try loadFixture("optimizers.json", as: OptimizersFixture.self) }

  static var runNames: [String] {
    (try? fixture.get().runs.map(\.name)) ?? ["fixture missing"]
  }

  /// Ten steps of the fixture's problem, `tanh(conv2d(x, w, b, padding 1))` fitted to a target
  /// by MSE, with the named run's optimiser; each step's loss and parameters are compared.
  @Test(arguments: runNames)
  func tenStepsMatchPyTorch(runName: String) throws {
    let fixture = try Self.fixture.get()
    let run = try #require(fixture.runs.first { $0.name == runName })
    let weight = Parameter(name: "weight", value: fixture.weight.tensor)
    let bias = Parameter(name: "bias", value: fixture.bias.tensor)
    let named: NamedParameters = [("weight", weight), ("bias", bias)]
    let options = run.options
    let optimizer: any Optimizer
    if run.kind == "adam" {
      optimizer = Adam(
        parameters: named, learningRate: options.lr, beta1: options.betas?[0] ?? 0.9,
        beta2: options.betas?[1] ?? 0.999, epsilon: options.eps ?? 1e-8,
        weightDecay: options.weight_decay ?? 0)
    } else {
      optimizer = SGD(
        parameters: named, learningRate: options.lr, momentum: options.momentum ?? 0,
        dampening: options.dampening ?? 0, weightDecay: options.weight_decay ?? 0,
        nesterov: options.nesterov ?? false)
    }
    let input = fixture.input.tensor
    let target = fixture.target.tensor

    for step in 0..<10 {
      optimizer.clearGradients()
      let output = tanh(
        conv2d(input, weight: weight.value, bias: bias.value, stride: 1, padding: 1))
      let loss = mseLoss(output, target)
      loss.backward()
      optimizer.step()
      let expectedLoss = run.losses[step]
      #expect(
        abs(loss.scalar - expectedLoss) <= 1e-6 + 1e-5 * abs(expectedLoss),
        "\(runName) step \(step): loss \(loss.scalar) vs \(expectedLoss)")
      expectClose(
        weight.value, run.weights[step].tensor, rtol: 1e-4, atol: 1e-6,
        "\(runName) weight after step \(step + 1)")
      expectClose(
        bias.value, run.biases[step].tensor, rtol: 1e-4, atol: 1e-6,
        "\(runName) bias after step \(step + 1)")
    }
  }

  /// A large parameter is updated in SIMD lanes on several workers; a five-element parameter
  /// only element by element. Both must give the same numbers for the same elements.
  @Test func adamGivesTheSameNumbersInLanesAndWorkersAsElementByElement() {
    var random = RandomGenerator(seed: 5)
    let count = 200_003
    let large = Parameter(
      name: "large",
      value: Tensor.randomUniform(shape: [count], lowerBound: -1, upperBound: 1, using: &random))
    let firstSlice = 131_069
    func slice(_ tensor: Tensor) -> [Float] { Array(tensor.scalars[firstSlice..<(firstSlice + 5)]) }
    let small = Parameter(
      name: "small", value: Tensor(shape: [5], scalars: slice(large.value)))
    let settings = (learningRate: 0.01, beta1: 0.5, beta2: 0.999, weightDecay: 0.1)
    let largeAdam = Adam(
      parameters: [("p", large)], learningRate: settings.learningRate, beta1: settings.beta1,
      beta2: settings.beta2, weightDecay: settings.weightDecay)
    let smallAdam = Adam(
      parameters: [("p", small)], learningRate: settings.learningRate, beta1: settings.beta1,
      beta2: settings.beta2, weightDecay: settings.weightDecay)
    for _ in 0..<3 {
      let gradient = Tensor.randomNormal(
        shape: [count], mean: 0, standardDeviation: 1, using: &random)
      large.gradient = gradient
      small.gradient = Tensor(shape: [5], scalars: slice(gradient))
      largeAdam.step()
      smallAdam.step()
    }
    #expect(slice(large.value) == small.value.scalars)
    #expect(large.value.scalars.allSatisfy { $0.isFinite })
  }

  @Test func adamSkipsParametersWithoutGradientAndRestoresItsState() throws {
    let used = Parameter(name: "used", value: Tensor(shape: [3], scalars: [1, 2, 3]))
    let unused = Parameter(name: "unused", value: Tensor(shape: [2], scalars: [5, 6]))
    let adam = Adam(parameters: [("used", used), ("unused", unused)], learningRate: 0.1)
    used.gradient = Tensor(shape: [3], scalars: [1, -1, 0.5])
    adam.step()
    #expect(unused.value.scalars == [5, 6])
    // The first Adam step moves each element by lr·sign(g) (ε aside).
    expectClose(
      used.value, Tensor(shape: [3], scalars: [0.9, 2.1, 2.9]), rtol: 0, atol: 1e-6,
      "first step")
    #expect(adam.state.steps == ["used": 1, "unused": 0])

    // A second optimiser restored from the state continues identically.
    let twin = Parameter(name: "used", value: used.value)
    let twinUnused = Parameter(name: "unused", value: unused.value)
    let restored = Adam(parameters: [("used", twin), ("unused", twinUnused)], learningRate: 0.1)
    try restored.restore(adam.state)
    let gradient = Tensor(shape: [3], scalars: [0.3, 0.2, -2])
    used.gradient = gradient
    twin.gradient = gradient
    adam.step()
    restored.step()
    #expect(twin.value.scalars == used.value.scalars)

    // A state for other parameters is refused.
    let stranger = Adam(
      parameters: [("other", Parameter(name: "other", value: Tensor(shape: [3])))])
    #expect(throws: OptimizerStateError.self) { try stranger.restore(adam.state) }
  }
}
