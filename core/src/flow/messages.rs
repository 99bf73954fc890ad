//! The citizen-facing messages of the flow engine: what happened and what to do next.

use super::event::CardReadFailure;
use super::view::{FlowMessage, MessageKind};
use crate::catalogue::{CardType, Item, StepKind};
use crate::device::DeviceClass;
use crate::text::LocalizedText;

/// Builds messages for one item at one kiosk.
pub(crate) struct Messages<'a> {
    pub item: &'a Item,
    pub service_phone: &'a str,
}

impl Messages<'_> {
    fn message(
        &self,
        kind: MessageKind,
        title: LocalizedText,
        body: LocalizedText,
        next_steps: Vec<LocalizedText>,
    ) -> FlowMessage {
        FlowMessage {
            kind,
            title,
            body,
            next_steps,
            online_url: self.item.channels.online.clone(),
            service_phone: self.service_phone.to_string(),
        }
    }

    /// Other kiosk, online channel (if any), phone, staff.
    fn elsewhere(&self) -> Vec<LocalizedText> {
        let mut steps = vec![LocalizedText::new(
            "请到附近其他自助机办理",
            "Use another self-service kiosk nearby",
        )];
        if self.item.channels.online.is_some() {
            steps.push(LocalizedText::new(
                "扫描二维码，在网上办理",
                "Scan the QR code to apply online",
            ));
        }
        steps.push(self.call_or_staff());
        steps
    }

    fn call_or_staff(&self) -> LocalizedText {
        LocalizedText::new(
            format!("拨打 {} 咨询，或请现场工作人员协助", self.service_phone),
            format!(
                "Call {} or ask the staff on site for help",
                self.service_phone
            ),
        )
    }

    pub fn card_read_failed(&self, failure: CardReadFailure) -> FlowMessage {
        let (body, next) = match failure {
            CardReadFailure::Unreadable => (
                LocalizedText::new(
                    "证件未能读取，可能放置不平或移开过早。",
                    "The card could not be read; it may not have been flat or was moved too soon.",
                ),
                LocalizedText::new(
                    "请取回证件，平放在感应区，听到提示音前不要移开",
                    "Take the card and place it flat on the reader until you hear the beep",
                ),
            ),
            CardReadFailure::Expired => (
                LocalizedText::new("该证件已过有效期。", "This card has expired."),
                LocalizedText::new(
                    "请换用有效证件，或到窗口办理证件换领",
                    "Use a valid card, or renew the card at a service counter",
                ),
            ),
            CardReadFailure::Unsupported => (
                LocalizedText::new("无法识别该证件。", "This card is not recognised."),
                LocalizedText::new(
                    "请放置居民身份证、港澳台居民居住证或外国人永久居留身份证",
                    "Place a resident ID card, a residence permit for Hong Kong, Macao and Taiwan residents, or a foreign permanent resident ID card",
                ),
            ),
        };
        self.message(
            MessageKind::CardReadFailed,
            LocalizedText::new("未能读取证件", "Could not read the card"),
            body,
            vec![next, self.call_or_staff()],
        )
    }

    pub fn card_not_accepted(&self, read: CardType) -> FlowMessage {
        let accepted: Vec<LocalizedText> = self
            .item
            .allowed_cards
            .iter()
            .map(|c| c.display_name())
            .collect();
        let zh: Vec<&str> = accepted.iter().map(|t| t.zh.as_str()).collect();
        let en: Vec<&str> = accepted.iter().map(|t| t.en.as_str()).collect();
        let name = read.display_name();
        self.message(
            MessageKind::CardNotAccepted,
            LocalizedText::new(
                "该证件不能办理此事项",
                "This card cannot be used for this item",
            ),
            LocalizedText::new(
                format!("本事项不接受{}。", name.zh),
                format!("This item does not accept the {}.", name.en),
            ),
            vec![
                LocalizedText::new(
                    format!("请放置：{}", zh.join("、")),
                    format!("Please place: {}", en.join("; ")),
                ),
                self.call_or_staff(),
            ],
        )
    }

    pub fn device_fault(&self, class: DeviceClass) -> FlowMessage {
        let name = class.display_name();
        self.message(
            MessageKind::DeviceFault,
            LocalizedText::new("设备故障，本次办理已结束", "Device fault: this session has ended"),
            LocalizedText::new(
                format!("{}出现故障。本次申请未提交，您的信息已从本机清除。", name.zh),
                format!(
                    "The {} has failed. Nothing was submitted and your data has been erased from this kiosk.",
                    name.en
                ),
            ),
            self.elsewhere(),
        )
    }

    pub fn device_unavailable(&self, class: DeviceClass) -> FlowMessage {
        let name = class.display_name();
        self.message(
            MessageKind::DeviceUnavailable,
            LocalizedText::new("本机暂时无法办理此事项", "This kiosk cannot do this item right now"),
            LocalizedText::new(
                format!("{}暂时无法使用。本次申请未提交，您的信息已从本机清除。", name.zh),
                format!(
                    "The {} is not available. Nothing was submitted and your data has been erased from this kiosk.",
                    name.en
                ),
            ),
            self.elsewhere(),
        )
    }

    /// The face check did not pass (`reason` says why, e.g. the liveness instruction that was
    /// not followed); the session goes on to the alternatives, so nothing is erased yet.
    pub fn face_check_failed(&self, reason: Option<LocalizedText>) -> FlowMessage {
        self.message(
            MessageKind::FaceCheckFailed,
            reason.unwrap_or_else(|| LocalizedText::new("人脸核验未通过", "Face check not passed")),
            LocalizedText::new(
                "未能确认您与证件为同一人。您可以再试一次，或选择下方其他核验方式。",
                "We could not confirm that you are the card holder. You can try again or choose another way below.",
            ),
            vec![
                LocalizedText::new(
                    "请摘下帽子、口罩和眼镜，正对屏幕",
                    "Remove hat, mask and glasses and face the screen",
                ),
                LocalizedText::new("或到服务窗口人工办理", "Or go to a service counter"),
                self.call_or_staff(),
            ],
        )
    }

    pub fn submit_failed(&self) -> FlowMessage {
        self.message(
            MessageKind::SubmitFailed,
            LocalizedText::new("提交未成功", "Submission failed"),
            LocalizedText::new(
                "本机暂时无法保存您的申请，申请未受理，您的信息已从本机清除。",
                "This kiosk could not save your application. It was not accepted and your data has been erased from this kiosk.",
            ),
            self.elsewhere(),
        )
    }

    pub fn submit_unconfirmed(&self, transaction_id: &str) -> FlowMessage {
        self.message(
            MessageKind::SubmitUnconfirmed,
            LocalizedText::new("提交结果未确认", "Submission not confirmed"),
            LocalizedText::new(
                format!("本机未能及时确认您的申请是否已保存。办件编号：{transaction_id}。"),
                format!(
                    "The kiosk could not confirm in time whether your application was saved. Transaction number: {transaction_id}."
                ),
            ),
            vec![
                LocalizedText::new(
                    "请记下办件编号，稍后在网上或拨打电话查询办理结果，请勿重复提交",
                    "Note the transaction number and check online or by phone later; please do not submit again",
                ),
                self.call_or_staff(),
            ],
        )
    }

    pub fn receipt_failed(&self, transaction_id: &str) -> FlowMessage {
        self.message(
            MessageKind::ReceiptFailed,
            LocalizedText::new("申请已提交，凭条未能打印", "Submitted — the receipt could not be printed"),
            LocalizedText::new(
                format!("您的申请已成功提交，办件编号：{transaction_id}。"),
                format!(
                    "Your application was submitted. Transaction number: {transaction_id}."
                ),
            ),
            vec![
                LocalizedText::new(
                    "请记下办件编号，可凭编号在任一自助机或服务窗口补打凭条",
                    "Note the transaction number: the receipt can be reprinted with it at any kiosk or counter",
                ),
                self.call_or_staff(),
            ],
        )
    }

    pub fn result_failed(&self, kind: StepKind, transaction_id: &str) -> FlowMessage {
        let (what_zh, what_en) = match kind {
            StepKind::Card => ("卡片未能写入", "the card could not be written"),
            _ => ("文件未能打印", "the document could not be printed"),
        };
        self.message(
            MessageKind::ResultFailed,
            LocalizedText::new(
                format!("申请已提交，{what_zh}"),
                format!("Submitted — {what_en}"),
            ),
            LocalizedText::new(
                format!("您的申请已成功提交，办件编号：{transaction_id}。"),
                format!(
                    "Your application was submitted. Transaction number: {transaction_id}."
                ),
            ),
            vec![
                LocalizedText::new(
                    "请凭办件编号到其他自助机或服务窗口领取结果，无需重新申请",
                    "Collect the result at another kiosk or a counter with the transaction number; no need to apply again",
                ),
                self.call_or_staff(),
            ],
        )
    }
}
