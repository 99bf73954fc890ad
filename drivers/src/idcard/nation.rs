//! Nation (民族) codes of GB 3304, as written on resident ID cards.

const NATIONS: [(u8, &str); 58] = [
    (1, "汉"),
    (2, "蒙古"),
    (3, "回"),
    (4, "藏"),
    (5, "维吾尔"),
    (6, "苗"),
    (7, "彝"),
    (8, "壮"),
    (9, "布依"),
    (10, "朝鲜"),
    (11, "满"),
    (12, "侗"),
    (13, "瑶"),
    (14, "白"),
    (15, "土家"),
    (16, "哈尼"),
    (17, "哈萨克"),
    (18, "傣"),
    (19, "黎"),
    (20, "傈僳"),
    (21, "佤"),
    (22, "畲"),
    (23, "高山"),
    (24, "拉祜"),
    (25, "水"),
    (26, "东乡"),
    (27, "纳西"),
    (28, "景颇"),
    (29, "柯尔克孜"),
    (30, "土"),
    (31, "达斡尔"),
    (32, "仫佬"),
    (33, "羌"),
    (34, "布朗"),
    (35, "撒拉"),
    (36, "毛南"),
    (37, "仡佬"),
    (38, "锡伯"),
    (39, "阿昌"),
    (40, "普米"),
    (41, "塔吉克"),
    (42, "怒"),
    (43, "乌孜别克"),
    (44, "俄罗斯"),
    (45, "鄂温克"),
    (46, "德昂"),
    (47, "保安"),
    (48, "裕固"),
    (49, "京"),
    (50, "塔塔尔"),
    (51, "独龙"),
    (52, "鄂伦春"),
    (53, "赫哲"),
    (54, "门巴"),
    (55, "珞巴"),
    (56, "基诺"),
    (97, "其他"),
    (98, "外国血统中国籍人士"),
];

/// A nation code from the card, known to be in the GB 3304 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nation(u8);

impl Nation {
    /// The nation for a numeric code, if the code is in the table.
    pub fn from_code(code: u8) -> Option<Nation> {
        NATIONS
            .iter()
            .any(|(c, _)| *c == code)
            .then_some(Nation(code))
    }

    /// The nation for the two-digit text written on the card (`"01"` … `"98"`).
    pub fn from_card_text(text: &str) -> Option<Nation> {
        if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse::<u8>().ok().and_then(Nation::from_code)
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        self.0
    }

    /// The two-digit text as written on the card.
    pub fn card_text(self) -> String {
        format!("{:02}", self.0)
    }

    /// The name without 族 (e.g. `汉`).
    pub fn name(self) -> &'static str {
        NATIONS
            .iter()
            .find(|(c, _)| *c == self.0)
            .map_or("", |(_, name)| name)
    }

    /// The display form: `汉族`; the two special codes have no 族 suffix.
    pub fn display_name(self) -> String {
        match self.0 {
            97 | 98 => self.name().to_owned(),
            _ => format!("{}族", self.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_covers_all_codes() {
        for code in 1..=56 {
            assert!(Nation::from_code(code).is_some(), "code {code}");
        }
        assert_eq!(Nation::from_card_text("46").map(Nation::name), Some("德昂"));
        assert_eq!(
            Nation::from_card_text("01")
                .map(Nation::display_name)
                .as_deref(),
            Some("汉族")
        );
        assert_eq!(Nation::from_card_text("97").map(Nation::name), Some("其他"));
        assert_eq!(
            Nation::from_card_text("98").map(Nation::name),
            Some("外国血统中国籍人士")
        );
        assert_eq!(Nation::from_card_text("57"), None);
        assert_eq!(Nation::from_card_text("00"), None);
        assert_eq!(Nation::from_card_text("1 "), None);
    }
}
