"""The cue phrases a clinical educator listens for, per label, for both rubrics, and the one function
that finds them in a reply.

They are features for the detectors (each learns how much a cue is worth), the phrases the debrief
shows as evidence, and, where a detector cannot load, the whole of the role-play's fallback reading
(:mod:`framelab.roleplay.reading`). ``CUES`` are read in replies to boundary bids; ``REPAIR_CUES`` in
replies to a client who objects to something the therapist did (the repair rubric).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from framelab.core.vocabulary import LABELS

#: Cue phrases a clinical educator listens for, per label. They are features for the model
#: (it learns how much each is worth) and the whole of the keyword baseline in ``make bench``.
CUES: dict[str, tuple[str, ...]] = {
    "validate": (
        r"\bi (?:can |do )?(?:hear|see|sense|get|notice|understand|feel)\b",
        r"\bi can tell\b",
        r"\bsounds? like\b",
        r"\bit sounds\b",
        r"\bmakes? (?:complete |total |a lot of |real |perfect )?sense\b",
        r"\b(?:no wonder|of course you|really natural|so natural|completely natural)\b",
        r"\bunderstandabl[ey]\b",
        r"\bhow (?:much|hard|lonely|important|painful|scary|frightening|good|proud|grateful|close)\b",
        r"\b(?:means?|meant|matters?|mattered) (?:a lot|so much|a great deal|to you)\b",
        r"\bthank you for (?:telling|saying|asking|trusting|letting|sharing)\b",
        r"\b(?:took|takes) (?:courage|guts|some nerve)\b",
        r"\bi(?:'m| am) (?:really |so |very )?(?:glad|touched|moved)\b",
        r"\b(?:that's|that is) (?:no small thing|a real loss|a big step|important)\b",
        r"\byou(?:'ve| have) (?:come|done|worked)\b",
    ),
    "state_boundary": (
        r"\bi (?:won't|will not|can't|cannot|don't|do not|am not going to|'m not going to|'m not able to) "
        r"(?:be|become|meet|see|come|accept|take|text|message|follow|add|connect|go|join|share|keep|answer)\b",
        r"\b(?:our|this) (?:relationship|work|sessions?)\b",
        r"\b(?:stay|stays|keep|keeping|kept) (?:this|it|our|that|the|what)\b",
        r"\bprotect(?:s|ing)?\b",
        r"\b(?:in here|this room|these sessions|this hour|our sessions|in this space)\b",
        r"\bmy answer is\b",
        r"\bi(?:'d| would) rather (?:keep|not)\b",
        r"\b(?:the|a|that) (?:line|boundary|limit)\b",
        r"\b(?:that's|that is|it's|it is) not something i\b",
        r"\bso (?:that|this) (?:it|the work|you)\b",
        r"\bi keep (?:my|our|the)\b",
        r"\bso i(?:'m| am) going to say no\b|\bi'll say no\b|\bthe answer(?:'s| is) no\b",
    ),
    "recenter": (
        r"\bi wonder\b",
        r"\bcurious\b",
        r"\bwhat (?:is|was|would|might|do|does|did|makes|made|comes|came|happens|happened|it)\b[^.?!]*\?",
        r"\b(?:could|can|shall|might) we (?:look|talk|explore|think|stay|spend|notice|take|understand)\b",
        r"\blet's (?:look|talk|explore|think|stay|spend|notice|take|be curious|understand|make room)\b",
        r"\bexplor(?:e|ing)\b",
        r"\btell me (?:more|about)\b",
        r"\bwhat (?:that|this) (?:is|was|might be) (?:like|about)\b",
        r"\b(?:bring|brought|bringing) (?:it|this|that) (?:here|in)\b",
        r"\b(?:right now|between us|in the room|part of (?:our|the) work|worth (?:talking|looking|understanding))\b",
        r"\bwhat's (?:it|that|this) like\b",
        r"\bi(?:'d| would) like to understand\b",
    ),
    "gentle_dodge": (
        r"\b(?:not|maybe not) (?:right )?now\b",
        r"\b(?:another|some other|other) (?:time|day|week)\b",
        r"\b(?:busy|full|swamped|packed|booked|rammed|hectic|tight|snowed under|run off my feet|tied up)\b",
        r"\b(?:when|once|after) (?:we|therapy|our work|this|it)(?:'s| is| are| have| 've)? ?(?:finish|end|over|done)",
        r"\b(?:give it|once) a (?:good )?(?:while|year|few months)\b",
        r"\brain ?check\b",
        r"\b(?:schedule|calendar|diary|late clinic|the kids|childcare|a cold|tired|next client)\b",
        r"\bsomeone (?:straight )?after\b",
        r"\b(?:i'm|i am) (?:away|out of town|meeting someone|off|on leave)\b",
        r"\b(?:won't be able to make it|i'd never make it|can't make it|bad timing)\b",
        r"\botherwise\b",
        r"\bwe'll see\b|\bsee how (?:you|we|things)\b",
        r"\b(?:for the time being|at the moment|these days|this week|this term|this month|for now)\b",
        r"\b(?:it's just that|only because)\b",
    ),
    "vague_rule": (
        r"\bpolic(?:y|ies)\b",
        r"\brules?\b",
        r"\b(?:not|isn't|aren't|never) (?:allowed|permitted)\b",
        r"\bguidelines?\b",
        r"\bcodes? of (?:ethics|conduct|practice)\b",
        r"\b(?:professional|ethical) (?:ethics|standards|body|guidelines|reasons|rules)\b",
        r"\b(?:prohibit|prohibits|prohibited|forbid|forbids|forbidden|requires?)\b",
        r"\b(?:licen[cs]e|registration|regulator|insurance|liability)\b",
        r"\b(?:the|our) (?:service|practice|agency|clinic|organi[sz]ation|trust|board)\b",
        r"\b(?:counsell?ors|therapists|clinicians|practitioners) "
        r"(?:can't|cannot|don't|do not|aren't|are not|mustn't)\b",
        r"\b(?:unfortunately|i'm afraid)\b",
    ),
    "ignore_redirect": (
        r"\banyway\b",
        r"\b(?:so|right|okay|ok|now|anyhow),? (?:let's|shall we|where|how|back|did|you were|i wanted|tell me)\b",
        r"\bget back to\b|\bback to\b|\bmoving on\b",
        r"\bwhere (?:were we|did we (?:leave|get))\b",
        r"^(?:mm+|hmm+|right|ok|okay|ha+|i did)\b",
        r"\bhow (?:has|have|was|did|is|are|'s) (?:your|the|it|things|work|home)\b",
        r"\b(?:shall we|let's) (?:start|begin|carry on|pick up|check in|look at|go through)\b",
        r"\b(?:last week|this week|homework|thought record|sleep log|exercise|the plan)\b",
        r"\b(?:see you then|mind the step|on your way out|good luck with)\b",
        r"\blet's not worry about it\b",
    ),
    "mixed_message": (
        r"\bi(?:'d| would) (?:really |honestly |genuinely )?(?:love|like|enjoy|have loved)\b",
        r"\bif (?:it were|things were|only|i could|we'd|we had|we hadn't|circumstances|it was up)\b",
        r"\bin another (?:life|world|time)\b",
        r"\b(?:who knows|never say never|one day|you never know|we might well)\b",
        r"\bdon't tempt me\b",
        r"\bi (?:really |probably )?shouldn't\b|\bi'd better not\b",
        r"\b(?:pity|shame|gutted|wish i could|wishes we could|sadly|tempting|torn|ugh)\b",
        r"\bcheeky\b|\b(?:ha ha|haha|wink)\b",
        r"\b(?:our (?:little )?secret|don't tell|keep (?:it )?quiet|low-key)\b",
        r"\b(?:maybe|perhaps) (?:after|when|once|one day|later)\b",
        r"\b(?:part of me|i'll miss you|hard to say no|in a heartbeat)\b",
        r"\b(?:i know, i know|not sure it's the best idea)\b",
    ),
    "collapse_frame": (
        r"^(?:sure|of course|absolutely|definitely|done|deal|why not|go on|yes|yeah|oh go on|wow)\b",
        r"\b(?:yes|okay|ok|all right|alright|fine|go on then),? (?:i'd|i'll|coffee|go ahead|if|that|let's|what)\b",
        r"\b(?:my|personal) (?:number|mobile|phone|email|address|cell|whatsapp)\b",
        r"\b(?:call|text|message|ring|email|add|follow|send|drop) me\b",
        r"\bany ?time\b|\bday or night\b|\bwhenever you like\b",
        r"\bi(?:'ll| will) (?:come|be there|add|accept|follow|meet|bring|pop|send|see you|drop)\b",
        r"\blet's (?:go|meet|grab|do it|do that)\b",
        r"\b(?:see you (?:there|then|at|on)|what time shall we|does the \w+ suit|which day)\b",
        r"\b(?:count me in|i'm in|it's a date|wouldn't miss it|send me the)\b",
        r"\bjust (?:this once|the once)\b",
        r"\b(?:let me tell you|don't get me started|see each other properly)\b",
        r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday) (?:after|at|then|evening|night)\b",
    ),
}


class DetectError(Exception):
    """The detector cannot run (missing data file, say); the message says what to do."""


#: Repair cues: what a therapist says when a client objects, read as the eight labels
#: (validate = thanks them for saying it; state_boundary = owns their part; recenter = gets curious;
#: vague_rule = defends; mixed_message = apologises, then justifies; collapse_frame = over-apologises
#: or gives something outside the frame; ignore_redirect = dismisses it; gentle_dodge = puts it off).
REPAIR_CUES: dict[str, tuple[str, ...]] = {
    "validate": (
        r"\bthank(?:s| you)\b",
        r"\b(?:glad|pleased) (?:you|that you) (?:said|told|came|brought|raised|did|were)\b",
        r"\b(?:took|takes|must have taken) (?:courage|guts|some nerve)\b",
        r"\bappreciate\b",
        r"\b(?:right|good|important) (?:to|that you) (?:say|tell|raise|said|told|came)\b",
    ),
    "state_boundary": (
        r"\bi (?:got|had|read) (?:that|it|you|this) (?:wrong|badly wrong|completely wrong)\b",
        r"\bi was wrong\b|\bi (?:made|make) a mistake\b",
        r"\bmy (?:mistake|fault|part|error|bad)\b",
        r"\bi (?:misread|misjudged|missed|jumped|assumed|rushed|put words|got ahead|overstepped)\b",
        r"\bthat (?:was|is) (?:on me|my)\b",
        r"\bi(?:'m| am) sorry (?:i|that i|for|about)\b",
        r"\bi shouldn't have\b",
        r"\bi (?:made an assumption|put my own|was off|got ahead of)\b",
        r"\bi can see (?:how|that|why) (?:i|it|that)\b",
    ),
    "recenter": (
        r"\bwhat (?:was|is|has) (?:that|it|this) (?:been )?like\b|\bwhat (?:it|that|this) (?:was|is|felt) like\b",
        r"\btell me (?:more|about|what|how)\b",
        r"\bhelp me (?:understand|see|get)\b",
        r"\bi(?:'d| would) (?:like|love|want) to (?:understand|hear|know)\b",
        r"\bcurious\b|\bi wonder\b",
        r"\bwhat (?:did|do|does|would|could|felt|made|happened)\b[^.?!]*\?",
        r"\bhow (?:did|does|do|has) (?:that|it|this|you)\b[^.?!]*\?",
    ),
    "vague_rule": (
        r"\bi (?:only|just|simply) (?:meant|wanted|said|suggested|asked)\b",
        r"\bwhat i (?:meant|was trying|was saying|said was)\b",
        r"\byou (?:misunderstood|took it|misheard|may have misunderstood|got the wrong)\b",
        r"\b(?:technique|standard practice|approach|the model|my training|the research|the evidence)\b",
        r"\b(?:it's|it is) (?:normal|common|usual|standard) (?:to|for|in)\b",
        r"\bi(?:'m| am) (?:trained|qualified|experienced)\b",
        r"\b(?:policy|procedure|guidelines?)\b",
    ),
    "mixed_message": (
        r"\bsorry (?:if|you feel|you felt|that you feel|that you felt)\b",
        r"\bsorry (?:it|that it|if it) (?:came across|landed|sounded|felt|seemed)\b",
        r"\bsorry,? (?:but|though)\b",
        r"\bi still (?:think|believe|wonder if)\b",
        r"\bto be fair\b|\bin my defen[cs]e\b|\bin fairness\b",
        r"\bi didn't mean (?:it|to)\b[^.?!]*\bbut\b",
    ),
    "collapse_frame": (
        r"\b(?:so,? so|terribly|awfully|really,? really|incredibly|truly,? truly) sorry\b",
        r"\bi feel (?:awful|terrible|dreadful|so bad|sick)\b",
        r"\b(?:free|extra) sessions?\b|\bno charge\b|\bon the house\b|\bmake it up to you\b",
        r"\bforgive me\b|\bplease don't (?:leave|go|stop coming)\b",
        r"\bi(?:'m| am) (?:a|such a|the) (?:terrible|bad|awful|useless|rubbish)\b",
        r"\bmy (?:personal |own )?(?:number|mobile|phone)\b",
    ),
    "ignore_redirect": (
        r"\banyway\b|\banyhow\b",
        r"\blet's (?:move on|get back|carry on|not dwell|focus on|pick up|start)\b",
        r"\bdon't worry about (?:it|that)\b|\bno harm done\b|\bwater under the bridge\b",
        r"\bit doesn't matter\b|\bforget (?:it|about it|about that)\b",
        r"\bback to\b|\bmoving on\b",
        r"\bhow (?:was|has|is) your (?:week|weekend|exam|day)\b",
        r"^(?:so|right|okay|ok),? (?:the|how|did|have|what about)\b",
        r"\b(?:exam timetable|the dates|homework|the agenda|the plan for today)\b",
    ),
    "gentle_dodge": (
        r"\b(?:come back to|revisit|return to|park|shelve|put a pin in) (?:that|it|this)\b",
        r"\b(?:later|another time|some other time|next week|next session)\b",
        r"\bnot (?:right )?now\b|\bwhen we have (?:more )?time\b|\bfor now\b",
    ),
}


def compile_cues(table: Mapping[str, tuple[str, ...]]) -> dict[str, list[re.Pattern[str]]]:
    return {lab: [re.compile(p, re.IGNORECASE) for p in table.get(lab, ())] for lab in LABELS}


COMPILED = compile_cues(CUES)
COMPILED_REPAIR = compile_cues(REPAIR_CUES)


_DASHES = re.compile(r"[\u2010-\u2015]")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, plain letters, curly quotes and dashes straightened, one space between words."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return _SPACES.sub(" ", _DASHES.sub("-", text)).strip()


def words(text: str) -> list[str]:
    """The words of a text, normalised (letters, digits and apostrophes)."""
    return re.findall(r"[a-z0-9']+", normalise(text))


def find(patterns: Mapping[str, list[re.Pattern[str]]], text: str, limit: int | None = None) -> dict[str, list[str]]:
    """Per label, the cue phrases found in the text (at most ``limit`` each), in vocabulary order."""
    clean = normalise(text)
    found: dict[str, list[str]] = {}
    for lab in LABELS:
        hits: list[str] = []
        for pat in patterns.get(lab, []):
            for m in pat.finditer(clean):
                phrase = m.group(0).strip(" ,?")
                if phrase and phrase not in hits:
                    hits.append(phrase)
        if hits:
            found[lab] = hits[:limit]
    return found


def cue_matches(text: str) -> dict[str, list[str]]:
    """Per label, the boundary-bid cue phrases found in the text, as the trainee wrote them."""
    return find(COMPILED, text)


def repair_cue_matches(text: str) -> dict[str, list[str]]:
    """Per label, the repair cue phrases found in the text (at most four each)."""
    return find(COMPILED_REPAIR, text, 4)
