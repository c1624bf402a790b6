/// The CycleGAN objective and its two optimiser steps, as the reference's `cycle_gan_model.py`
/// (`forward`, `backward_G`, `backward_D_basic`, `optimize_parameters`).
///
/// Networks (the reference's names): `G_A` translates A to B, `G_B` B to A; `D_A` tells real B
/// from `G_A`'s fakes, `D_B` real A from `G_B`'s. One step on a batch `A` `[N, Ca, H, W]` and
/// `B` `[N, Cb, H, W]`:
///
///     fake_B = G_A(A), rec_A = G_B(fake_B), fake_A = G_B(B), rec_B = G_A(fake_A)
///     G step (D frozen: no gradients for D's parameters):
///       idt_A = λ_B·λ_idt·|G_A(B) − B|₁,  idt_B = λ_A·λ_idt·|G_B(A) − A|₁   (when λ_idt > 0)
///       G_A = GAN(D_A(fake_B), real), G_B = GAN(D_B(fake_A), real)
///       cycle_A = λ_A·|rec_A − A|₁, cycle_B = λ_B·|rec_B − B|₁
///       Adam on G_A and G_B's parameters for the sum of the six
///     D step, with fakes from the image pools:
///       D_A = ½(GAN(D_A(B), real) + GAN(D_A(pool_B(fake_B)), fake))
///       D_B = ½(GAN(D_B(A), real) + GAN(D_B(pool_A(fake_A)), fake))
///       Adam on D_A and D_B's parameters for their sum
///
/// GAN(x, real) is the mean squared error against 1 (real) or 0 (fake) for LSGAN, and binary
/// cross-entropy with logits against the same targets for the vanilla GAN.
import Foundation
import Models
import NeuralNet
import Tensors

/// The images of one step, first sample of the batch each, for the sample grids.
public struct Visuals: Sendable {
  /// `[1, C, H, W]` tensors in [-1, 1], named as `sampleLabels`.
  public var named: [(label: String, tensor: Tensor)]
}

/// The random generators one step draws from.
public struct StepRandoms: Sendable {
  /// Swap decisions of the pool of `G_B`'s fakes (shown to `D_B`).
  public var fakeAPool: RandomGenerator
  /// Swap decisions of the pool of `G_A`'s fakes (shown to `D_A`).
  public var fakeBPool: RandomGenerator
  /// The seed of the generators' dropout layers for this step.
  public var dropoutSeed: UInt64

  public init(fakeAPool: RandomGenerator, fakeBPool: RandomGenerator, dropoutSeed: UInt64) {
    self.fakeAPool = fakeAPool
    self.fakeBPool = fakeBPool
    self.dropoutSeed = dropoutSeed
  }
}

/// The four networks, their optimisers and the objective.
public final class CycleGAN {
  public let configuration: ModelConfiguration
  /// A → B.
  public let generatorA: any Layer
  /// B → A.
  public let generatorB: any Layer
  /// Judges B images.
  public let discriminatorA: any Layer
  /// Judges A images.
  public let discriminatorB: any Layer
  let optimizerG: Adam
  let optimizerD: Adam
  let ganMode: TrainingOptions.GANMode
  let lambdaA: Float
  let lambdaB: Float
  let lambdaIdentity: Float

  /// The networks as a model directory holds them.
  public var networks: [NetworkRole: any Layer] {
    [
      .generatorA: generatorA, .generatorB: generatorB, .discriminatorA: discriminatorA,
      .discriminatorB: discriminatorB,
    ]
  }

  /// The learning rate of both optimisers.
  public var learningRate: Double {
    get { optimizerG.learningRate }
    set {
      optimizerG.learningRate = newValue
      optimizerD.learningRate = newValue
    }
  }

  /// Builds the networks `options` describe and initialises them from `options.seed`.
  public init(options: TrainingOptions) {
    configuration = CycleGAN.configuration(for: options)
    var built: [NetworkRole: any Layer] = [:]
    let initialization = Initialization(
      scheme: InitializationScheme(rawValue: options.initialization.rawValue) ?? .normal,
      gain: Float(options.initializationGain))
    for (index, role) in NetworkRole.allCases.enumerated() {
      // Dropout layers are reseeded before every step (`reseedDropout`).
      let network = configuration.makeNetwork(role, dropoutSeed: options.seed)
      var random = RandomGenerator(
        seed: options.seed, stream: .initialization, counter: UInt64(index))
      initialization.apply(to: network, using: &random)
      network.setTraining(true)
      built[role] = network
    }
    generatorA = built[.generatorA]!
    generatorB = built[.generatorB]!
    discriminatorA = built[.discriminatorA]!
    discriminatorB = built[.discriminatorB]!

    func named(_ roles: [NetworkRole]) -> NamedParameters {
      roles.flatMap { role in
        built[role]!.namedParameters().map { (name: role.rawValue + "." + $0.name, $0.parameter) }
      }
    }
    optimizerG = Adam(
      parameters: named([.generatorA, .generatorB]), learningRate: options.learningRate,
      beta1: options.beta1, beta2: options.beta2)
    optimizerD = Adam(
      parameters: named([.discriminatorA, .discriminatorB]), learningRate: options.learningRate,
      beta1: options.beta1, beta2: options.beta2)
    ganMode = options.ganMode
    lambdaA = Float(options.lambdaA)
    lambdaB = Float(options.lambdaB)
    lambdaIdentity = Float(options.lambdaIdentity)
  }

  /// The `config.json` of the run's model directories.
  static func configuration(for options: TrainingOptions) -> ModelConfiguration {
    let norm = NormKind(rawValue: options.normalization.rawValue) ?? .instance
    let upsampling: GeneratorUpsampling
    switch options.upsampling {
    case .transposed: upsampling = .transpose
    case .nearest: upsampling = .nearest
    case .bilinear: upsampling = .bilinear
    }
    let discriminatorKind: DiscriminatorKind
    switch options.discriminator {
    case .basic: discriminatorKind = .basic
    case .nLayers: discriminatorKind = .nLayers
    case .pixel: discriminatorKind = .pixel
    }
    return ModelConfiguration(
      generator: GeneratorConfiguration(
        filters: options.ngf, residualBlocks: options.generator.residualBlocks, norm: norm,
        dropout: options.dropout, upsampling: upsampling),
      discriminator: DiscriminatorConfiguration(
        kind: discriminatorKind, filters: options.ndf,
        layers: options.discriminator == .basic ? 3 : options.layersD, norm: norm),
      channelsA: options.inputChannels, channelsB: options.outputChannels,
      domainA: options.domainA, domainB: options.domainB,
      imageSize: options.preprocess.crops ? options.cropSize : nil,
      networks: NetworkRole.allCases, options: options.asStrings)
  }

  /// The adversarial loss of `prediction` (logits `[N, 1, H', W']`) against "real" or "fake".
  func ganLoss(_ prediction: Tensor, real: Bool) -> Tensor {
    let target = Tensor(shape: prediction.shape, repeating: real ? 1 : 0)
    switch ganMode {
    case .lsgan: return mseLoss(prediction, target)
    case .vanilla: return binaryCrossEntropyWithLogits(prediction, target)
    }
  }

  /// One training step on `realA` `[N, Ca, H, W]` and `realB` `[N, Cb, H, W]`: the G step,
  /// then the D step with pooled fakes. Returns the eight losses and the images.
  public func step(
    realA: Tensor, realB: Tensor, fakeAPool: inout ImagePool, fakeBPool: inout ImagePool,
    random: StepRandoms
  ) -> (Losses, Visuals) {
    reseedDropout(random.dropoutSeed)
    var losses = Losses()

    // Forward: translations and reconstructions.
    let fakeB = generatorA(realA)
    let reconstructedA = generatorB(fakeB)
    let fakeA = generatorB(realB)
    let reconstructedB = generatorA(fakeA)

    // G step. The discriminators are frozen while they judge the fakes (the reference's
    // `set_requires_grad(D, False)`): the gradient reaches the fakes, none is computed for D.
    optimizerG.clearGradients()
    var generatorLoss = Tensor(0)
    var identityA: Tensor? = nil
    var identityB: Tensor? = nil
    if lambdaIdentity > 0 {
      let idtA = generatorA(realB)
      let idtB = generatorB(realA)
      let lossA = l1Loss(idtA, realB) * (lambdaB * lambdaIdentity)
      let lossB = l1Loss(idtB, realA) * (lambdaA * lambdaIdentity)
      losses.identityA = lossA.scalar
      losses.identityB = lossB.scalar
      generatorLoss = lossA + lossB
      identityA = idtA
      identityB = idtB
    }
    let adversarialA = discriminatorA.withFrozenParameters {
      ganLoss(discriminatorA(fakeB), real: true)
    }
    let adversarialB = discriminatorB.withFrozenParameters {
      ganLoss(discriminatorB(fakeA), real: true)
    }
    let cycleA = l1Loss(reconstructedA, realA) * lambdaA
    let cycleB = l1Loss(reconstructedB, realB) * lambdaB
    generatorLoss = generatorLoss + adversarialA + adversarialB + cycleA + cycleB
    generatorLoss.backward()
    optimizerG.step()
    losses.generatorA = adversarialA.scalar
    losses.generatorB = adversarialB.scalar
    losses.cycleA = cycleA.scalar
    losses.cycleB = cycleB.scalar

    // D step on real images and pooled fakes (detached by the pool).
    optimizerD.clearGradients()
    var poolRandomB = random.fakeBPool
    var poolRandomA = random.fakeAPool
    let pooledFakeB = fakeBPool.query(fakeB.detached(), random: &poolRandomB)
    let lossDA =
      (ganLoss(discriminatorA(realB), real: true)
        + ganLoss(discriminatorA(pooledFakeB), real: false)) * 0.5
    lossDA.backward()
    let pooledFakeA = fakeAPool.query(fakeA.detached(), random: &poolRandomA)
    let lossDB =
      (ganLoss(discriminatorB(realA), real: true)
        + ganLoss(discriminatorB(pooledFakeA), real: false)) * 0.5
    lossDB.backward()
    optimizerD.step()
    losses.discriminatorA = lossDA.scalar
    losses.discriminatorB = lossDB.scalar

    // The first sample of each image, for the report.
    func first(_ tensor: Tensor?) -> Tensor? {
      guard let tensor else { return nil }
      let size = tensor.count / tensor.shape[0]
      return Tensor(
        shape: [1] + tensor.shape.dropFirst(), scalars: Array(tensor.scalars.prefix(size)))
    }
    let images: [Tensor?] = [
      realA, fakeB, reconstructedA, identityB, realB, fakeA, reconstructedB, identityA,
    ]
    let visuals = Visuals(
      named: zip(sampleLabels, images).compactMap { label, tensor in
        first(tensor).map { (label, $0) }
      })
    return (losses, visuals)
  }

  /// Gives every dropout layer a generator fixed by `seed` and its place, so that a step's
  /// masks depend on the iteration only (and a resumed run draws the same ones).
  func reseedDropout(_ seed: UInt64) {
    var index: UInt64 = 0
    for network in [generatorA, generatorB] {
      network.forEachLayer { layer in
        guard let dropout = layer as? Dropout else { return }
        dropout.generator = RandomGenerator(seed: seed &+ index &* 0x9E37_79B9_7F4A_7C15)
        index += 1
      }
    }
  }

  /// Adam's moments and step counts of both optimisers, for a checkpoint.
  var optimizerStates: (generators: AdamState, discriminators: AdamState) {
    (optimizerG.state, optimizerD.state)
  }

  /// Restores the optimisers' moments and step counts.
  func restoreOptimizers(generators: AdamState, discriminators: AdamState) throws {
    try optimizerG.restore(generators)
    try optimizerD.restore(discriminators)
  }
}

extension TrainingOptions {
  /// Every option as text, for the `options` record of `config.json`.
  var asStrings: [String: String] {
    guard let data = try? JSONEncoder().encode(self),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return [:] }
    return object.mapValues { "\($0)" }
  }

  /// The learning-rate policy of NeuralNet for these options.
  var schedulePolicy: NeuralNet.LearningRatePolicy {
    switch learningRatePolicy {
    case .linear: return .linear(constantEpochs: epochs, decayEpochs: decayEpochs, startEpoch: 1)
    case .step: return .step(stepEpochs: decayIterations, factor: 0.1)
    case .cosine: return .cosine(periodEpochs: epochs, minimum: 0)
    case .plateau: return .plateau(factor: 0.2, threshold: 0.01, patience: 5)
    }
  }
}
