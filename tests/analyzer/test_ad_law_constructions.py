"""ad_law constructions that real copy uses beyond the guideline's word lists: variants, word
orders and bounded gaps of the guideline's rows (超低秒杀 beside 超低价, 征信有问题都可贷 beside
黑户可贷, 仅剩天 with its digit stripped, 比遍全城 beside 比价全城), and the lawful wording around
them that must stay clean (最高直降600元, 您的满意是我们最大的动力, 金牌会员).

Every sentence is written for this test (typical marketing copy, not corpus text) and linted
through the public API as a JD SMS, as in ``test_ad_law_guideline.py``:

* ``STRICT``: an ad_law **error** overlaps the wording;
* ``BORDERLINE`` (lawful when a fact is true): an ad_law **warning** overlaps it and no error does;
* ``NO_SPAN``: the sentence has no ad_law finding at all.
"""

from __future__ import annotations

import functools

import pytest

from compliance import Engine

STRICT: list[tuple[str, str]] = [
    # art. 9(3): price claims and absolute wording
    ("新款手机限量超低秒杀，到店即可参与", "超低秒杀"),
    ("流量套餐超低资费，回复1办理", "超低资费"),
    ("冬装上新超低尖叫价，会员再享九折", "超低尖叫价"),
    ("年货节全场探底，错过等明年", "探底"),
    ("清仓季价格见底，欢迎选购", "价格见底"),
    ("周年庆力度空前，全场五折起", "力度空前"),
    ("开业空前优惠，办卡送礼", "空前优惠"),
    ("国际top品牌强势入驻本商场", "top品牌"),
    ("年度销量第的面膜今晚开团", "销量第"),
    ("开创了本市的首例商住一体模式", "开创了本市的首例"),
    ("下载客户端百分百有礼，点击领取", "百分百有礼"),
    ("参与砸金蛋100%有奖", "100%有奖"),
    # art. 25: returns and loans
    ("征信有逾期都可以贷，当天放款", "征信有逾期都可以贷"),
    ("信用记录不好照样可以办，额度高", "信用记录不好照样可以办"),
    ("理财新用户享高额收益，限量领取", "高额收益"),
    ("招募代理商，月收入保底5000元", "收入保底"),
    ("开一家小店坐等狂赚", "狂赚"),
    # art. 26: real estate
    ("地铁口增值户型，首付五万起", "增值"),
    ("抢占新城价值洼地，首付五万", "价值洼地"),
    ("临街旺铺日进斗金", "日进斗金"),
    ("写字楼抄低价整层发售", "抄低价"),
    ("专业处理各类欠款纠纷，成功计费", "成功计费"),
    ("贷款批下来再收费", "批下来再收费"),
    ("临街旺铺租金年年有收益", "租金年年有收益"),
    ("商业街现铺即买即租，轻松收益", "即买即租"),
    ("学区好房价值无限，欢迎品鉴", "价值无限"),
    ("核心地段无限升值", "无限升值"),
    # art. 24: education guarantees
    ("零基础学员也能必通，报名从速", "必通"),
    ("名师押题，确保通过", "确保通过"),
    ("商铺租金保底，年年有钱收", "租金保底"),
    ("摇奖百分百赢流量", "百分百赢"),
    ("补考学员可加分通过，名额有限", "加分通过"),
    ("一对一辅导确保再升30分", "确保再升30分"),
    # effect guaranteed with a speed (like X天见效), and a plainly false claim (art. 28)
    ("减肥茶3天起效，无需节食", "起效"),
    ("有了它7天轻松瘦身", "天轻松瘦身"),
    ("点击马上瘦，夏天不用愁", "马上瘦"),
    ("这款道具百战百胜", "百战百胜"),
    ("科学减肥，不瘦不要钱", "不瘦不要钱"),
    ("私教课程不瘦全额退款", "不瘦全额退款"),
    ("考证培训，考试不过不收费", "不过不收费"),
    ("纵有千万间，不及此一套", "千万间，不及"),
    ("中考百日冲刺保提20分", "保提20分"),
    ("专升本学习轻松，保证顺利毕业", "保证顺利毕业"),
    # round 3's constructions
    ("信用卡代办，下卡收费", "下卡收费"),
    ("不看负债，当天放款", "不看负债"),
    ("黑名单查封房都可操作", "黑名单查封房都可操作"),
    ("兼职刷单每单收入5元", "每单收入5"),
    ("在家操作日均收入至少50元以上", "日均收入至少50元"),
    ("挑战全城价格底线", "价格底线"),
    ("橱柜降价到底，买就送", "降价到底"),
    ("当季新款全场亏本处理", "亏本"),
]

BORDERLINE: list[tuple[str, str]] = [
    ("家具博览会比价全城，整套更优惠", "比价全城"),
    ("比遍全城才知道哪家实惠", "比遍全城"),
    ("本市最早成立的口腔连锁，欢迎预约", "最早成立"),
    ("中华老字号糕点礼盒上新", "中华老字号"),
    ("状元老师亲自授课，寒假班开课", "状元老师"),
    ("传统金饰，财神庇佑系列到店", "庇佑"),
    # art. 24: implied results
    ("考前押题准确率93，报名从速", "准确率93"),
    ("驾校先学后付，随到随学", "先学后付"),
    ("科目一包教学，可先考证后付款", "先考证后付款"),
    ("名师签合同保障辅导，一对一教学", "签合同保障"),
    ("我们还提供签约高中服务", "签约高中"),
    ("根据成绩可签约保送", "签约保送"),
    ("系统复习要点难点，一模考见分晓", "考见分晓"),
    ("一对一辅导，一站式解决偏科问题", "解决偏科"),
    ("国际本科班免面试直接入学", "直接入学"),
    # deadlines and stock
    ("夏装上新，全场九折仅3天", "仅3天"),
    ("周年庆全场满减仅今日", "仅今日"),
    ("夏装特惠仅剩天，速来抢购", "仅剩天"),
    ("红包雨限今日，登录领取", "限今日"),
    ("移动营业厅优惠活动仅限号", "仅限号"),
    ("学区房仅余5套，欢迎看房", "仅余5套"),
    ("周年庆只剩小时，速来", "只剩小时"),
    ("暑期班优惠还剩最后两天", "还剩最后两天"),
    ("特价房仅限双十一前", "仅限双十一前"),
    ("年中大促倒计3天", "倒计3天"),
    ("席位分秒递减，不容等待", "席位分秒递减"),
    # round 3's borderline constructions
    ("本地土鸡立享直供价", "直供价"),
    ("热门综艺全网独播", "独播"),
    ("名师集训速提6分", "速提6分"),
    ("热门专业直升，欢迎报名", "直升"),
    ("欢迎来到国家旅游度假区", "国家旅游度假区"),
    ("国家5A级景区门票半价", "国家5A级景区"),
    ("高考冲刺保目标", "保目标"),
    ("软考资料通过率87", "通过率87"),
    ("本校考场合格率高，随到随学", "合格率高"),
    ("驾校好过关，出证快", "好过关"),
    ("双地铁掘金旺铺，首付两万", "掘金"),
    ("这款全能清洁剂一瓶搞定", "全能"),
    ("专利仪器和中医疗法免费体验", "疗法"),
    ("具有提高男性的性功能的作用", "提高男性的性功能"),
    ("冬季特惠最后两个周末", "最后两个周末"),
    ("年货最后抢购，手慢无", "最后抢购"),
    ("楼盘房源紧张，欢迎来电", "房源紧张"),
    ("赶在涨价前入手", "赶在涨价前"),
    ("存抵活动即将截止，欢迎来电", "即将截止"),
    ("宽带促销马上结束，抓紧办理", "马上结束"),
    ("热盘别等涨价，周末看房有礼", "别等涨价"),
    ("品牌一年仅有的五折，今晚开抢", "一年仅有的"),
    ("一年只为今天，全店包邮", "一年只为今天"),
    ("年货节最后一战，买手机送好礼", "最后一战"),
    ("人气单品最后补货，手慢无", "最后补货"),
    ("购物袋里的包包快被抢光啦", "快被抢光"),
    ("正品特卖库存告急，快下单吧", "库存告急"),
]

NO_SPAN: list[str] = [
    # near misses of the constructions above
    "超低温冷冻保鲜，冰箱以旧换新",
    "大盘探底回升，理财有风险",
    "排名第几请在活动页查看",
    "最早明天发货，请耐心等待",
    "征信报告可在线查询",
    "高额信用卡在线申请，审核快",
    "签到狂赚积分，兑换好礼",
    "直接赠送全套增值服务",
    "退订增值业务请回复0",
    "租金可月付，拎包入住",
    "即买即用，方便快捷",
    "活动必通知到每位会员",
    "必考点精讲，报名从速",
    "准确率逐年提高",
    "支持先用后付，确认收货再付款",
    "报名需签订合同，请带身份证",
    "一站式解决装修难题",
    "支付成功后发货",
    "雨季低洼地区注意防汛",
    "直接到店咨询",
    "仅天猫旗舰店有售",
    "仅需99元，到手两件",
    "仅限本号码使用",
    "您的账户余额还剩3元，请及时充值",
    "钱包只剩下五百块",
    "名额有限，先到先得",
    "库存有限，售完即止",
    "即将上市，敬请期待",
    "一年只需99元会员费",
    "最后祝您生活愉快",
    # lawful numeric caps, mottos and tiers
    "热销机型最高直降600元",
    "存话费最高存349赠47元",
    "特卖会最高满400减60",
    "借款周期最短三天最长三年",
    "小游戏最高分数排前十名的用户获赠月饼",
    "您的满意是我们最大的动力",
    "积分奖励分分钟到手",
    "转发排名前10位的用户可获奖励",
    "把您认为最赞的一项体验发给我们",
    "端午节献给最亲爱的老爸",
    "会员日积分升值，每分抵一元",
    "交话费最低金额可充45元",
    "买房送房啦，最高直送15平",
    "直升机航拍服务",
    "节能环保目标",
    "确保准时送达",
    "每单限购两件",
    "一天三次饭后服用",
    "做生意亏本了",
    "初二最关键，查漏补缺",
    "点击页面最上方的按钮领取",
    "和您最亲的家人分享",
    "靠街现铺不包租不反租，立即拿证",
    "凭唯一优惠标识码登录换购",
    "套餐变更次日起效",
    "每天轻松学一点",
    "千万不要错过",
    "不满意包退换，放心购",
    "理财产品购买次日即享收益",
    "掘金A股研讨会本周六举行",
    "话费豪礼先领先得，送完为止",
    "奥斯卡金像奖最佳外语片选送片单公布",
    "高考倒计时，名师冲刺班开课",
    "保证书请签字后交回",
    "尊敬的金牌会员，优惠券已到账",
]


@functools.cache
def _engine() -> Engine:
    """One engine for the module (building it loads every pack and lexicon)."""
    return Engine()


def _ad_law(text: str) -> list[tuple[int, int, str]]:
    """(start, end, severity) of the ad_law findings of `text` linted as a JD SMS."""
    report = _engine().lint(text, "jd.sms")
    return [(f.start, f.end, f.severity) for f in report.findings
            if f.category == "ad_law" and f.start is not None and f.end is not None]


def _overlapping(text: str, wording: str) -> list[str]:
    """Severities of the ad_law findings that overlap `wording` in `text`."""
    start = text.index(wording)
    end = start + len(wording)
    return [severity for s, e, severity in _ad_law(text) if s < end and start < e]


@pytest.mark.parametrize(("text", "wording"), STRICT, ids=[w for _, w in STRICT])
def test_strict_construction_is_an_error(text: str, wording: str) -> None:
    assert "error" in _overlapping(text, wording), (text, _ad_law(text))


@pytest.mark.parametrize(("text", "wording"), BORDERLINE, ids=[w for _, w in BORDERLINE])
def test_borderline_construction_is_a_warning(text: str, wording: str) -> None:
    found = _overlapping(text, wording)
    assert "warning" in found and "error" not in found, (text, _ad_law(text))


@pytest.mark.parametrize("text", NO_SPAN)
def test_near_miss_is_not_flagged(text: str) -> None:
    assert _ad_law(text) == [], (text, _ad_law(text))
