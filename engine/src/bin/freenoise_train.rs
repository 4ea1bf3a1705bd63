//! `freenoise-train`: trains the demo model (feature `train`; `gpu-train` adds a Vulkan GPU).
//! Resumable: run it again with the same `--run` folder and it continues from the last checkpoint.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use engine::burn::prelude::Device;
use engine::train::{average, evaluate, export_f16, fork, snapshot, write_card, Recipe, Run};
use engine::EngineError;

#[derive(Clone, Copy, ValueEnum)]
enum DeviceArg {
    Cpu,
    /// The first GPU, through Vulkan.
    #[cfg(feature = "gpu-train")]
    Gpu,
}

#[derive(Parser)]
#[command(name = "freenoise-train", about = "Train the demo text-to-video model on the procedural shapes data set")]
struct Args {
    /// Run folder: recipe, state, losses.csv, optimizer state and the model (model/).
    #[arg(long)]
    run: PathBuf,
    /// Folder with the CLIP BPE tokenizer files (vocab.json, merges.txt, tokenizer_config.json).
    #[arg(long, default_value = "tests/fixtures/tiny-mid/tokenizer")]
    tokenizer: PathBuf,
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceArg,
    /// Stage-1 (VAE) steps; a resumed run keeps the larger of this and its recipe's.
    #[arg(long)]
    vae_steps: Option<usize>,
    /// Stage-1b (decoder alone) steps; a run whose stage 2 has begun runs them before continuing.
    #[arg(long)]
    decoder_steps: Option<usize>,
    /// Stage-2 (text encoder + UNet) steps.
    #[arg(long)]
    denoise_steps: Option<usize>,
    #[arg(long)]
    clips_per_batch: Option<usize>,
    #[arg(long)]
    checkpoint_every: Option<usize>,
    #[arg(long)]
    log_every: Option<usize>,
    /// Share of clips drawn at high noise (the recipe's `high_noise_share`); a new value takes
    /// effect from the run's current step.
    #[arg(long)]
    high_noise_share: Option<f64>,
    /// Start this (new) run from another run folder's trained model: its VAE, and its text
    /// encoder and UNet as stage 2's starting weights (fresh optimizer moments, this run's recipe
    /// and clip pool), then train.
    #[arg(long, value_name = "PARENT_RUN")]
    start_from: Option<PathBuf>,
    /// Frames per stage-1 batch.
    #[arg(long)]
    vae_batch_frames: Option<usize>,
    /// Stop cleanly (after a checkpoint) after this many seconds; run again to resume.
    #[arg(long)]
    max_seconds: Option<f64>,
    /// Instead of training: score the run's model on this many held-out prompts (16 frames),
    /// and keep the figures in the run folder (evaluation.json) for the model card.
    #[arg(long)]
    evaluate: Option<usize>,
    /// With --evaluate: the 64-frame checks too (FreeNoise and plain sampling on the same
    /// prompts, and keyframe turns), about twenty times longer.
    #[arg(long, requires = "evaluate")]
    long: bool,
    /// Instead of training: write the run's model with f16 weights to this folder, with its
    /// card (README.md: data, recipe, time, losses, the last evaluation's figures).
    #[arg(long)]
    export: Option<PathBuf>,
    /// Instead of training: write what a later `--start-from` needs (f16 model, state, recipe,
    /// losses, last evaluation) to this folder, to commit so the run outlives this machine.
    #[arg(long, value_name = "FOLDER")]
    snapshot: Option<PathBuf>,
    /// Instead of training: make --run (a new folder) the run whose text encoder and UNet
    /// weights are the mean of these checkpoints' (copies of one run folder taken after its
    /// checkpoints), the rest being the latest one's; evaluate, export or snapshot it after.
    #[arg(long, value_name = "CHECKPOINT", num_args = 2..)]
    average_of: Option<Vec<PathBuf>>,
}

fn main() -> ExitCode {
    engine::host_alloc::keep_freed_memory();
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), EngineError> {
    if let Some(count) = args.evaluate {
        println!("{}", evaluate(&args.run, count, args.long)?);
        return Ok(());
    }
    if let Some(target) = &args.export {
        export_f16(&args.run.join("model"), target)?;
        return write_card(&args.run, target);
    }
    if let Some(target) = &args.snapshot {
        return snapshot(&args.run, target);
    }
    if let Some(checkpoints) = &args.average_of {
        let state = average(checkpoints, &args.run)?;
        println!("{}: the mean of the checkpoints at denoiser steps {:?}", args.run.display(), state.averaged);
        return Ok(());
    }
    let device = match args.device {
        DeviceArg::Cpu => Device::flex(),
        #[cfg(feature = "gpu-train")]
        DeviceArg::Gpu => Device::vulkan(engine::burn::prelude::DeviceKind::DiscreteGpu(0)),
    };
    if let Some(parent) = &args.start_from {
        let state = fork(parent, &args.run)?;
        println!("starting from {} at denoiser step {}", parent.display(), state.parent.as_ref().map_or(0, |p| p.denoise_step));
    }
    let mut run = Run::open(&args.run, Recipe::default(), &args.tokenizer, device)?;
    // Flags given override the recipe (a new run's defaults or a resumed run's saved values):
    // step counts to train longer, batch size and logging when a run moves between machines.
    let r = &mut run.recipe;
    r.vae_steps = args.vae_steps.unwrap_or(r.vae_steps);
    r.denoise_steps = args.denoise_steps.unwrap_or(r.denoise_steps);
    if let Some(steps) = args.decoder_steps {
        r.set_decoder_steps(steps);
    }
    r.clips_per_batch = args.clips_per_batch.unwrap_or(r.clips_per_batch);
    r.vae_batch_frames = args.vae_batch_frames.unwrap_or(r.vae_batch_frames);
    r.checkpoint_every = args.checkpoint_every.unwrap_or(r.checkpoint_every);
    r.log_every = args.log_every.unwrap_or(r.log_every);
    if let Some(share) = args.high_noise_share {
        r.set_high_noise_share(share, run.state.denoise_step)?;
    }
    run.save_recipe()?;
    run.deadline = args.max_seconds.map(|s| std::time::Instant::now() + std::time::Duration::from_secs_f64(s));
    run.train()
}
