//! The `face_check` step: consent before the camera, the check itself, and the alternatives
//! (try again, verification by the centre, staff assistance) so declining or failing is never
//! a dead end.

use super::Session;
use crate::catalogue::{FaceAlternative, FaceCheckStep, FaceVerification, Step};
use crate::flow::effect::Effect;
use crate::flow::event::{FaceOption, FlowEvent};
use crate::flow::phase::Phase;
use crate::text::LocalizedText;

/// How many camera checks one step allows before only the alternatives are left.
pub(super) const MAX_FACE_ATTEMPTS: u8 = 3;

/// The text of the face-check consent screen.
pub(super) fn consent_text(step: &FaceCheckStep) -> LocalizedText {
    if let Some(text) = &step.consent {
        return text.clone();
    }
    match step.verification {
        FaceVerification::Local => LocalizedText::new(
            "接下来将打开摄像头，核验您是否为证件持有人本人。人脸图像只在本机内存中处理，与证件照片比对后立即清除，不保存、不上传；本机只记录核验结果。如不同意，您可以选择其他核验方式。",
            "The camera will now check that you are the holder of the card. Your face is processed only in this kiosk's memory, compared with the card photo and erased at once; it is neither stored nor uploaded, only the result is recorded. If you do not agree, you can choose another way to prove who you are.",
        ),
        FaceVerification::Remote => LocalizedText::new(
            "接下来将打开摄像头，截取您的正面人脸小图，发送至公安身份核验服务，核验您是否为证件持有人本人。本机不保存图像，只记录核验结果。如不同意，您可以选择其他核验方式。",
            "The camera will now take a small picture of your face and send it to the official identity-verification service, which checks that you are the holder of the card. The kiosk keeps no image, only the result. If you do not agree, you can choose another way to prove who you are.",
        ),
    }
}

impl Session {
    pub(super) fn on_face_event(&mut self, event: FlowEvent, now: u64, fx: &mut Vec<Effect>) {
        let Some(Step::FaceCheck(step)) = self.current_step().cloned() else {
            return;
        };
        match (self.phase, event) {
            (Phase::FaceConsent, FlowEvent::ConsentGiven) => {
                self.start_face_check(step.verification == FaceVerification::Remote, now, fx)
            }
            (Phase::FaceConsent, FlowEvent::ConsentDeclined) => {
                self.message = None;
                self.set_phase(Phase::FaceAlternatives, now, fx);
            }
            (Phase::FaceCheck, FlowEvent::StepCompleted) => {
                self.message = None;
                self.advance(now, fx);
            }
            (Phase::FaceCheck, FlowEvent::StepRefused { message }) => {
                self.message = Some(self.messages().face_check_failed(Some(message)));
                self.set_phase(Phase::FaceAlternatives, now, fx);
            }
            (Phase::FaceCheck, FlowEvent::StepFailed { .. }) => {
                self.message = Some(self.messages().face_check_failed(None));
                self.set_phase(Phase::FaceAlternatives, now, fx);
            }
            (Phase::FaceAlternatives, FlowEvent::FaceOptionChosen(option))
                if self.face_options(&step).contains(&option) =>
            {
                match option {
                    FaceOption::Retry => self.start_face_check(self.face_remote, now, fx),
                    FaceOption::Remote => self.start_face_check(true, now, fx),
                    FaceOption::Staff => {
                        self.message = None;
                        self.set_phase(Phase::StaffAssist, now, fx);
                        fx.push(Effect::CallStaff);
                    }
                }
            }
            (Phase::StaffAssist, FlowEvent::StaffVerified) => {
                self.message = None;
                self.advance(now, fx);
            }
            _ => {}
        }
    }

    /// The choices offered now: another try while attempts are left, then the item's
    /// alternatives (verification by the centre only when the check was not already that).
    pub(super) fn face_options(&self, step: &FaceCheckStep) -> Vec<FaceOption> {
        let mut options = Vec::new();
        if self.face_attempts > 0 && self.face_attempts < MAX_FACE_ATTEMPTS {
            options.push(FaceOption::Retry);
        }
        for alternative in &step.alternatives {
            match alternative {
                FaceAlternative::Remote
                    if step.verification == FaceVerification::Local && !self.face_remote =>
                {
                    options.push(FaceOption::Remote)
                }
                FaceAlternative::Staff => options.push(FaceOption::Staff),
                FaceAlternative::Remote => {}
            }
        }
        options
    }

    fn start_face_check(&mut self, remote: bool, now: u64, fx: &mut Vec<Effect>) {
        self.face_attempts = self.face_attempts.saturating_add(1);
        self.face_remote = remote;
        self.message = None;
        self.set_phase(Phase::FaceCheck, now, fx);
        fx.push(Effect::StartFaceCheck { remote });
    }
}
