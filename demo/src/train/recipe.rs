//! The demo model's recipe: architecture (as the diffusers config files it is saved with) and
//! training hyper-parameters. Committed with its seed, so a run can be repeated.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::model_dir::ModelDir;
use crate::dataset::{Placement, Style, Trail, TrailStyle};
use engine::schedulers::{Prediction, SchedulerConfig};

/// Hyper-parameters of both stages. A saved recipe lacking a newer field takes its default.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Recipe {
    pub seed: u64,
    /// Stage 1: the VAE on single frames.
    pub vae_steps: usize,
    pub vae_batch_frames: usize,
    pub vae_lr: f64,
    /// Weight of the KL term (mean-reduced), small: it only keeps the latent scale tame.
    pub kl_weight: f32,
    /// Stage 1b: the decoder alone on the frozen encoder's latents, object pixels weighted
    /// `1 + decoder_object_weight` (`decoder_stage`). Recipes recorded before it had none.
    #[serde(default)]
    pub decoder_steps: usize,
    #[serde(default)]
    pub decoder_lr: f64,
    #[serde(default)]
    pub decoder_object_weight: f32,
    /// Stage 2: text encoder and UNet together on 16-frame clips.
    pub denoise_steps: usize,
    pub clips_per_batch: usize,
    /// New clips rendered and encoded per step (the rest of a batch reuses the pool).
    pub fresh_clips_per_step: usize,
    /// Clips the pool holds at most; once full, batches only reuse it.
    pub pool_clips: usize,
    pub denoise_lr: f64,
    pub warmup_steps: usize,
    /// What the UNet predicts (written to the scheduler config as diffusers names it).
    /// v weighs an error in the denoised clip by 1 + 1/SNR relative to epsilon, so the high-noise
    /// steps where a caption decides colour and position count (`docs/demo-model-history.md`).
    pub prediction: Prediction,
    /// Share of captions replaced by the empty prompt, so classifier-free guidance works.
    pub uncond_share: f64,
    /// Token ids per caption (the tokenizer's `model_max_length`): 24 fits the data set's
    /// longest caption. CLIP's 77 left a caption's words a few of 77 text states, most of them
    /// padding dominated by the end token, and the UNet learnt the background word alone
    /// (`docs/demo-model-history.md`). Runs recorded before this field used 77.
    #[serde(default = "clip_tokens")]
    pub text_tokens: usize,
    /// Share of clips whose timestep is drawn from the top of the schedule
    /// (`denoise_stage::HIGH_NOISE_FROM` and up, where sampling's first steps decide an object's
    /// path) rather than uniformly, from denoiser step `high_noise_since` on. A caption's motion
    /// word only saves loss where the noisy clip hides the path: uniform draws put few clips
    /// there, and the v-prediction run learnt colour but not direction (`docs/demo-model-history.md`).
    /// Recipes recorded before these fields drew uniformly.
    #[serde(default)]
    pub high_noise_share: f64,
    #[serde(default)]
    pub high_noise_since: usize,
    /// Betas rescaled to zero terminal SNR (the scheduler config's `rescale_betas_zero_snr`), so
    /// the noisiest training clips show nothing and only the caption can say where an object
    /// goes (why: `docs/demo-model-history.md`, stop 18). Recipes recorded before this field did not.
    #[serde(default)]
    pub zero_terminal_snr: bool,
    /// Ghosts in each moving object's trail ([`crate::dataset::TRAIL`]), so a frame shows which
    /// way its object goes (why: `crate::dataset`). Recipes recorded before trails drew none.
    #[serde(default)]
    pub trail: usize,
    /// How the trail's ghosts look: the comet since recipe v6, which forked v5's model because
    /// v5's faint trail had not taught it direction (`docs/demo-model-history.md`, stop 18). Recipes
    /// recorded before this field drew the fading trail.
    #[serde(default)]
    pub trail_style: TrailStyle,
    /// Where straight-line movers' paths lie: centred since recipe v8, which forked v7's model
    /// because the direction word was still unused after many hours of training
    /// ([`crate::dataset`] says why). Recipes recorded before this field spread them.
    #[serde(default)]
    pub placement: Placement,
    /// Clips the pool is filled with before stage 2's first step, on top of each step's fresh
    /// ones, so a run that starts a new pool (a fork onto new data) does not draw its first
    /// batches from a handful of clips. Recipes recorded before this field had none.
    #[serde(default)]
    pub pool_start: usize,
    /// When set, stage 2 draws only these motions (indices into
    /// [`crate::vocab::MOTIONS`]) and `--evaluate` asks only for them: a diagnostic
    /// fork that asks whether the UNet can learn the direction words at all when they are most
    /// of what a caption says (`docs/demo-model-history.md`, stop 16). A model trained so is not the demo
    /// model; the card says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus_motions: Option<Vec<usize>>,
    pub log_every: usize,
    pub checkpoint_every: usize,
}

impl Default for Recipe {
    fn default() -> Self {
        Self {
            seed: 20261127,
            vae_steps: 1000,
            vae_batch_frames: 32,
            vae_lr: 1e-3,
            kl_weight: 1e-4,
            // Where the colour round trip levelled off; more steps cost CPU time and gained
            // nothing (`docs/demo-model-history.md`, stop 14).
            decoder_steps: 300,
            decoder_lr: 5e-4,
            decoder_object_weight: 9.0,
            denoise_steps: 30_000,
            clips_per_batch: 8,
            fresh_clips_per_step: 1,
            pool_clips: 8000,
            denoise_lr: 6e-4,
            warmup_steps: 200,
            prediction: Prediction::VPrediction,
            uncond_share: 0.1,
            text_tokens: 24,
            // The demo model forks `demo-run4` (whose recipe drew uniformly until its step 2450,
            // then this share) and draws this share from its first step.
            high_noise_share: 0.4,
            high_noise_since: 0,
            zero_terminal_snr: true,
            trail: crate::dataset::TRAIL.ghosts,
            trail_style: crate::dataset::TRAIL.style,
            placement: crate::dataset::PLACEMENT,
            // Enough clips that the first batches are not drawn from a handful, for about a
            // minute of encoding on a 2-core machine.
            pool_start: 400,
            focus_motions: None,
            log_every: 20,
            checkpoint_every: 200,
        }
    }
}

impl Recipe {
    /// How its clips are drawn.
    pub fn clip_style(&self) -> Style {
        Style { trail: Trail { ghosts: self.trail, style: self.trail_style }, placement: self.placement }
    }

    /// The recipe a run folder recorded (`recipe.json`), if it has one.
    pub(super) fn recorded(dir: &ModelDir) -> Result<Option<Self>, engine::EngineError> {
        if !dir.has("recipe.json") {
            return Ok(None);
        }
        super::run::json(&dir.read_text("recipe.json")?, "recipe.json").map(Some)
    }

    /// A focus must name at least one motion, each an index into the motion table: an empty
    /// or unknown list would leave the clip sampler nothing to draw, forever.
    pub fn check_focus(&self) -> Result<(), engine::EngineError> {
        let count = crate::vocab::MOTIONS.len();
        match &self.focus_motions {
            Some(list) if list.is_empty() || list.iter().any(|&m| m >= count) => {
                Err(engine::EngineError::Request(format!("recipe.json: focus_motions {list:?} must list at least one motion, each an index below {count}")))
            }
            _ => Ok(()),
        }
    }

    /// Asks for `steps` of stage 1b; a recipe recorded before the stage existed takes the
    /// current rate and object weight with it (its zeros would train nothing).
    pub fn set_decoder_steps(&mut self, steps: usize) {
        if self.decoder_lr == 0.0 {
            let fresh = Self::default();
            (self.decoder_lr, self.decoder_object_weight) = (fresh.decoder_lr, fresh.decoder_object_weight);
        }
        self.decoder_steps = steps;
    }

    /// Changes the high-noise share of a run from denoiser step `step` on (the steps before keep
    /// the draws they had); the same share again changes nothing.
    pub fn set_high_noise_share(&mut self, share: f64, step: usize) -> Result<(), engine::EngineError> {
        if !(0.0..=1.0).contains(&share) {
            return Err(engine::EngineError::Request(format!("high-noise share {share} is not between 0 and 1")));
        }
        if share != self.high_noise_share {
            (self.high_noise_share, self.high_noise_since) = (share, step);
        }
        Ok(())
    }
}

fn clip_tokens() -> usize {
    engine::clip::CLIP_TOKENS
}

/// `vae/config.json` (`scaling_factor` is measured after stage 1 and written then).
pub fn vae_config(scaling_factor: f32) -> Value {
    json!({
        "_class_name": "AutoencoderKL",
        "_diffusers_version": "0.42.1",
        "act_fn": "silu",
        "block_out_channels": [32, 64, 64],
        "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
        "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
        "in_channels": 3,
        "out_channels": 3,
        "latent_channels": 4,
        "layers_per_block": 1,
        "norm_num_groups": 16,
        "mid_block_add_attention": false,
        "sample_size": 64,
        "scaling_factor": scaling_factor,
        "force_upcast": false,
        "use_quant_conv": true,
        "use_post_quant_conv": true
    })
}

/// `unet/config.json`: a small `UNetMotionModel` with three levels (16×16 latents at 32
/// channels, 8×8 and 4×4 at 64), cross-attention and motion modules at every level, and a
/// 32-frame position table so FreeNoise's 16-frame windows fit. Recipes up to v4 left the 16×16
/// level attention-free to save CPU time; their runs learnt colour but never direction
/// (`docs/demo-model-history.md`, stops 13–14), and since v4 the data shows direction as a trail beside
/// the object, a pattern one or two latent pixels wide that only the full-size level resolves.
/// So the caption reaches that level too (recipe v5), with one attention head there: four
/// heads of 8 channels nearly doubled a CPU step's time (`docs/benchmarks.md`, training).
pub fn unet_config() -> Value {
    json!({
        "_class_name": "UNetMotionModel",
        "_diffusers_version": "0.42.1",
        "act_fn": "silu",
        "block_out_channels": [32, 64, 64],
        "cross_attention_dim": 64,
        "down_block_types": ["CrossAttnDownBlockMotion", "CrossAttnDownBlockMotion", "CrossAttnDownBlockMotion"],
        "up_block_types": ["CrossAttnUpBlockMotion", "CrossAttnUpBlockMotion", "CrossAttnUpBlockMotion"],
        "downsample_padding": 1,
        "in_channels": 4,
        "out_channels": 4,
        "layers_per_block": 1,
        "mid_block_layers": 1,
        "mid_block_scale_factor": 1,
        "motion_max_seq_length": 32,
        "motion_num_attention_heads": 4,
        "norm_eps": 1e-05,
        "norm_num_groups": 8,
        "num_attention_heads": [1, 4, 4],
        "sample_size": 16,
        "temporal_transformer_layers_per_block": 1,
        "temporal_transformer_layers_per_mid_block": 1,
        "transformer_layers_per_block": 1,
        "use_linear_projection": false,
        "use_motion_mid_block": true
    })
}

/// `text_encoder/config.json`: a small CLIP text model on the real CLIP BPE vocabulary.
pub fn text_config() -> Value {
    json!({
        "architectures": ["CLIPTextModel"],
        "model_type": "clip_text_model",
        "attention_dropout": 0.0,
        "bos_token_id": 49406,
        "eos_token_id": 49407,
        "pad_token_id": 49407,
        "hidden_act": "quick_gelu",
        "hidden_size": 64,
        "intermediate_size": 256,
        "initializer_factor": 1.0,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": 77,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "projection_dim": 64,
        "vocab_size": 49408
    })
}

/// `scheduler/scheduler_config.json`: the noise schedule the UNet is trained on (AnimateDiff's,
/// rescaled to zero terminal SNR when the recipe says so).
pub fn scheduler_config(recipe: &Recipe) -> Value {
    json!({
        "_class_name": "DDIMScheduler",
        "_diffusers_version": "0.42.1",
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "beta_schedule": "linear",
        "clip_sample": false,
        "num_train_timesteps": 1000,
        "prediction_type": recipe.prediction,
        "rescale_betas_zero_snr": recipe.zero_terminal_snr,
        "set_alpha_to_one": false,
        "steps_offset": 1,
        "timestep_spacing": "linspace"
    })
}

/// `model_index.json`, so `AnimateDiffPipeline.from_pretrained` finds every part.
pub fn model_index() -> Value {
    json!({
        "_class_name": "AnimateDiffPipeline",
        "_diffusers_version": "0.42.1",
        "feature_extractor": [null, null],
        "image_encoder": [null, null],
        "motion_adapter": [null, null],
        "scheduler": ["diffusers", "DDIMScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNetMotionModel"],
        "vae": ["diffusers", "AutoencoderKL"]
    })
}

/// `alphas_cumprod` of the training schedule (f64, as the forward process is computed on the
/// host): the one [`scheduler_config`] gives the samplers.
pub fn alphas_cumprod(recipe: &Recipe) -> Vec<f64> {
    let config = SchedulerConfig::from_json(&scheduler_config(recipe).to_string(), "scheduler_config.json").expect("the recipe's scheduler config is valid");
    config.alphas_cumprod()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_high_noise_share_starts_at_the_given_step() {
        let mut recipe: Recipe = serde_json::from_str(r#"{"seed": 1}"#).unwrap();
        assert_eq!((recipe.high_noise_share, recipe.high_noise_since), (0.0, 0), "recipes recorded before drew uniformly");
        recipe.set_high_noise_share(0.4, 2300).unwrap();
        recipe.set_high_noise_share(0.4, 2500).unwrap();
        assert_eq!((recipe.high_noise_share, recipe.high_noise_since), (0.4, 2300));
        let err = recipe.set_high_noise_share(1.5, 2600).unwrap_err().to_string();
        assert!(err.contains("1.5") && err.contains("between 0 and 1"), "{err}");
        assert_eq!(recipe.high_noise_since, 2300);
    }

    #[test]
    fn older_recipes_gain_the_decoder_stage_only_when_asked() {
        let mut recipe: Recipe = serde_json::from_str(r#"{"seed": 1, "trail": 3}"#).unwrap();
        assert_eq!((recipe.decoder_steps, recipe.decoder_lr, recipe.trail), (0, 0.0, 3));
        recipe.set_decoder_steps(300);
        let fresh = Recipe::default();
        assert_eq!((recipe.decoder_steps, recipe.decoder_lr, recipe.decoder_object_weight), (300, fresh.decoder_lr, fresh.decoder_object_weight));
        recipe.decoder_lr = 1e-4;
        recipe.set_decoder_steps(400);
        assert_eq!((recipe.decoder_steps, recipe.decoder_lr), (400, 1e-4), "a recorded rate is kept");
        let old: Recipe = serde_json::from_str(r#"{"seed": 1}"#).unwrap();
        assert_eq!(old.trail, 0, "recipes recorded before trails drew none");
        let fading: Recipe = serde_json::from_str(r#"{"seed": 1, "trail": 3}"#).unwrap();
        assert_eq!(fading.clip_style().trail, Trail { ghosts: 3, style: TrailStyle::Fading }, "recipes v4-v5 drew the fading trail");
        assert_eq!(Recipe::default().clip_style().trail, crate::dataset::TRAIL);
        assert!(!fading.zero_terminal_snr, "recipes v1-v6 trained on AnimateDiff's own betas");
        assert!(alphas_cumprod(&fading)[999] > 1e-3);
        let current = Recipe::default();
        assert_eq!((alphas_cumprod(&current)[999], scheduler_config(&current)["rescale_betas_zero_snr"].as_bool()), (0.0, Some(true)));
    }

    #[test]
    fn older_recipes_spread_their_movers_and_start_with_an_empty_pool() {
        let recipe: Recipe = serde_json::from_str(r#"{"seed": 1, "trail": 3, "trail_style": "comet"}"#).unwrap();
        assert_eq!((recipe.placement, recipe.pool_start), (Placement::Spread, 0));
        assert_eq!(Recipe::default().clip_style(), crate::dataset::STYLE);
        let reread: Recipe = serde_json::from_str(&serde_json::to_string(&Recipe::default()).unwrap()).unwrap();
        assert_eq!(reread.clip_style().placement, Placement::TwoPhaseTorus);
    }

    #[test]
    fn a_focus_must_name_known_motions() {
        assert!(Recipe::default().check_focus().is_ok());
        assert!(Recipe { focus_motions: Some(vec![0, 11]), ..Recipe::default() }.check_focus().is_ok());
        for bad in [vec![], vec![0, 12]] {
            let err = Recipe { focus_motions: Some(bad), ..Recipe::default() }.check_focus().unwrap_err().to_string();
            assert!(err.contains("focus_motions") && err.contains("below 12"), "{err}");
        }
    }
}
