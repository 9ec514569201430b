"""Word lists for contact extraction: section headings, field labels, job-title and company words,
country names. General vocabulary of resumes in a few languages, not tuned to any one file.
"""

from __future__ import annotations

import re
import unicodedata

from phonenumbers.geodata.locale import LOCALE_DATA


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())

# -- section headings ----------------------------------------------------------------------------

HEADING_CORE = _words("""
statement
summary profile objective objectives experience experiences employment history education qualifications
qualification skills skill competencies competences projects project publications publication papers awards
honors honours certifications certificates certification languages interests hobbies references referees
contact contacts details information links research teaching leadership activities achievements
accomplishments courses coursework volunteering training internships internship memberships
affiliations about abilities curriculum vitae resume résumé cv biodata bio-data background expertise strengths
presentations talks patents overview highlights portfolio declaration clearances clearance
lebenslauf berufserfahrung ausbildung bildung kenntnisse sprachen kontakt profil praktika
veröffentlichungen hobbys interessen studium schulbildung weiterbildung projekte referenzen
person daten promotion
expérience expériences formation compétences langues loisirs coordonnées
experiencia educación formación habilidades idiomas perfil contacto datos sobre acerca
резюме образование опыт навыки контакты языки себе проекты достижения сертификаты данные
профиль интересы курсы публикации рекомендации
информация умения езици стаж освіта досвід навички мови інформація контакти
reference referee références referencias referências referenze referanslar referencje 推荐人 证明人 ref refs
programs programmes tools
informazioni información informations informação angaben osobowe pessoais
deneyim eğitim beceriler yetenekler diller hakkımda iletişim projeler sertifikalar programlar
履歴書 職務経歴書 学歴 職歴 資格 免許 志望動機 简历 个人简历 教育背景 工作经历 项目经历 技能 이력서 학력 경력
info detail
esperienza esperienze istruzione formazione competenze lingue conoscenze capacità presentazione contatti
progetti certificazioni pubblicazioni interessi profilo obiettivo formação tentang
experiência experiências educação competências projetos cursos objetivo resumo contato contatos
certificações qualificações idiomas
estudios proyectos conocimientos aptitudes logros certificaciones competencias
werkervaring ervaring opleiding opleidingen vaardigheden talen profiel gegevens projecten interesses
contactgegevens persoonsgegevens cursussen
doświadczenie wykształcenie umiejętności języki zainteresowania projekty kursy szkolenia certyfikaty
pengalaman pendidikan keahlian kemampuan bahasa kontak proyek organisasi sertifikat ringkasan riwayat hidup
études diplômes parcours projets certifications atouts intérêts
erfarenhet utbildning kompetenser språk
βιογραφικό σημείωμα životopis życiorys önéletrajz özgeçmiş ansioluettelo currículo currículum
údaje vzdělání vzdelanie zkušenosti skúsenosti dovednosti zručnosti jazyky znalosti kontakty
προφίλ εκπαίδευση εμπειρία δεξιότητες γλώσσες πληροφορίες επικοινωνίας στοιχεία
קורות חיים السيرة الذاتية سيرة ذاتية
פרטים פרטי קשר השכלה ניסיון כישורים بيانات البيانات معلومات الاتصال التواصل المهارات الخبرات التعليم
المقدمة نبذة الدورات اللغات المؤهلات الهوايات ملخص الهدف
""")
HEADING_MODIFIERS = _words("""
work professional personal technical academic key core selected career other additional relevant
research me extracurricular volunteer soft hard computer language teaching and & of or in my the
scientific industry employment recent further summary experience related tech
bilgiler bilgileri bilgilerim kişisel ve
personali personnelles pessoal dane dados zur
лична личная особиста особисті трудов професионален професионални професійний компютърни езикови
zu meiner persönliche besondere berufliche beruflicher werdegang praktische tätigkeiten
centres d'intérêt professionnelle laboral personales работы о личные ключевые laborales profesionales
lavorativa lavorative professionale professionali linguistiche tecniche digitali
profissional profissionais acadêmica acadêmico académica académico complementar profesional sobre mí mim
de daftar
persoonlijke over mij zawodowe obce kerja diri saya pribadi professionnel académique
personnel techniques e y i et en und dan osobné osobní pracovní pracovné pracovná προσωπικό προσωπικά
επαγγελματική ξένες familiares familiar family familiales familiari
σύντομο αναλυτικό
אישיים תעסוקתי מקצועי الشخصية شخصية العملية
""")
CONTACT_HEADING_WORDS = _words("""
contact contacts details information kontakt person daten coordonnées contacto datos контакты данные
информация інформація контакти
iletişim kontakty údaje πληροφορίες επικοινωνίας στοιχεία
פרטים פרטי קשר بيانات البيانات معلومات الاتصال التواصل
""")
TITLE_HEADING_WORDS = _words("""
curriculum vitae resume résumé cv lebenslauf резюме 履歴書 职务经历 简历 个人简历 이력서 biodata bio-data
автобиография riwayat hidup
βιογραφικό σημείωμα životopis życiorys önéletrajz özgeçmiş ansioluettelo currículo currículum
קורות חיים السيرة الذاتية سيرة ذاتية
""")
"""Document titles ("Curriculum Vitae", "Resume"): they head the contact block instead of ending it."""
EXCLUDED_HEADING_WORDS = _words("""
publications publication papers references referees presentations talks patents ref refs
veröffentlichungen referenzen публикации рекомендации
reference referee références referencias referências referenze referanslar referencje 推荐人 证明人
""")
"""Sections whose emails and phones are other people's (co-authors, referees)."""

_UNFOLDED = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe"})


def fold_word(word: str) -> str:
    """A heading word without its accents and special letters ("EĞİTİM" and OCR's "EGITIM" -> "egitim"):
    OCR and some fonts lose them, and a heading is still a heading."""
    decomposed = unicodedata.normalize("NFKD", word.lower().translate(_UNFOLDED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _folded(words: frozenset[str]) -> frozenset[str]:
    return words | frozenset(fold_word(w) for w in words)


HEADING_CORE_FOLDED, HEADING_MODIFIERS_FOLDED = _folded(HEADING_CORE), _folded(HEADING_MODIFIERS)
CONTACT_HEADING_FOLDED = _folded(CONTACT_HEADING_WORDS)
EXCLUDED_HEADING_FOLDED = _folded(EXCLUDED_HEADING_WORDS)
TITLE_HEADING_FOLDED = _folded(TITLE_HEADING_WORDS)

# -- field labels --------------------------------------------------------------------------------

_PHONE_LABELS = r"""phone|telephone|tel|tél|téléphone|telefon|telefono|teléfono|telefone|fone|celular|cel|
móvil|movil|tlf|tfno|telp|sđt|điện\s+thoại|mobile|mobil|mob|cell|
cellphone|handy|whatsapp|gsm|telefoon|telefoonnummer|mobiel|mobiele\s+telefoon|contact\s+no|contact\s+number|phone\s+no|тел|телефон|моб|мобильный|мобилен|мобільний|電話|携帯|携帯電話|
電話番号|携帯電話番号|手机|电话|휴대폰|전화|تلفن|موبایل|همراه|هاتف|الهاتف|جوال|الجوال|טלפון|נייד"""
_FAX_LABELS = r"fax|telefax|факс|ファックス|ＦＡＸ|传真|팩스"
_EMAIL_LABELS = (r"e-?mail|mail|email\s+id|courriel|correo|почта|эл\.\s*почта|メール|邮箱|电子邮件|이메일|"
                 r"имейл|електронна\s+поща|поща|пошта|електронна\s+пошта")
_LOCATION_LABELS = r"""location|address|home\s+address|addr|adresse|anschrift|wohnort|city|based\s+in|
residence|domicile|dirección|direccion|ciudad|ubicación|indirizzo|адрес|город|местоположение|住所|現住所|地址|주소|
endereço|endereco|morada|localização|localizacao|cidade|residência|residenza|località|città|domicilio|
adres|adresa|woonplaats|miejscowość|alamat|adresi|ikametgah|địa\s+chỉ|lakcím|bydliště"""
_NAME_LABELS = (r"name|naam|voornaam|roepnaam|"
                r"full\s+name|first\s+names?|given\s+names?|nombres?|nome|vorname|prénom|prenom|nom|"
                r"imię|nama|nama\s+lengkap|ad\s+soyad|adı\s+soyadı|họ\s+và\s+tên|họ\s+tên|"
                r"имя|фио|собствено\s+и\s+фамилно\s+име|собствено\s+име|име|ім['’]я|氏[\s|]*名|名[\s|]*前|姓[\s|]*名|이[\s|]*름|성[\s|]*명")
_SURNAME_LABELS = (r"surname|last\s+name|family\s+name|(?:primer|segundo)\s+apellido|"
                   r"apellido\s+(?:paterno|materno)|apellidos?|nachname|familienname|nom\s+de\s+famille|"
                   r"sobrenome|cognome|nazwisko|achternaam|фамилия|фамилно\s+име|прізвище")
"""Labels of the family name when a form prints it apart from the given names."""


def _label_re(alternatives: str) -> re.Pattern[str]:
    words = "|".join(a.strip() for a in alternatives.replace("\n", "").split("|"))
    return re.compile(rf"(?<![\w])(?:{words})\b\.?", re.IGNORECASE)


_NOT_PHONE_LABELS = r"""id|passport|aadhaa?r|pan|ssn|licen[cs]e|zip|pin|pincode|postal|post\s*code|postcode|
plz|dob|birth|born|roll|reg|registration|gpa|cgpa|account|iban|swift|bic|vat|tax|matriculation|student|isbn|issn|orcid|doi|
cédula|cedula|rut|dni|nif|cpf|curp|rfc|cuit|cuil|pesel|nit"""
PHONE_LABEL = _label_re(_PHONE_LABELS)
NOT_PHONE_LABEL = _label_re(_NOT_PHONE_LABELS)
"""Labels of numbers that are not phones (ids, postal codes, dates of birth)."""
FAX_LABEL = _label_re(_FAX_LABELS)
EMAIL_LABEL = _label_re(_EMAIL_LABELS)
VALUE_AFTER = r"\s*(?:[:：]|-|–|—)?\s*(?P<value>.+)$"
_WHOLE_WORD = r"(?![^\W\d_])"
"""After a label: not followed by a letter ("city", not "Cityscape")."""
LOCATION_LABELLED = re.compile(
    rf"^\W{{0,3}}(?:{_LOCATION_LABELS.replace(chr(10), '')}){_WHOLE_WORD}{VALUE_AFTER}", re.IGNORECASE)
_BOTH = r"\s*(?:,|/|&|\s(?:and|und|et|e|y|i|и)\s)\s*"
_COMPOUND = (rf"(?:(?:{_NAME_LABELS})(?:{_BOTH}(?:{_NAME_LABELS}|{_SURNAME_LABELS}))?"
             rf"|(?:{_SURNAME_LABELS}){_BOTH}(?:{_NAME_LABELS}))")
"""A form's name label may name both parts: "Name, Vorname", "Nome e cognome", "Imię i nazwisko"."""
NAME_LABELLED = re.compile(rf"^\W{{0,3}}(?:{_COMPOUND})(?:\s*[:：]\s*|\s+[-–]\s+|\s+)(?P<value>.+)$",
                           re.IGNORECASE)
NAME_LABEL_ALONE = re.compile(rf"^\W{{0,3}}(?:{_COMPOUND})\s*[:：]?\s*$", re.IGNORECASE)
"""A name label on a line of its own ("氏名" over "村上　太一" in a Japanese form's cell)."""

LABEL_CONTINUED = re.compile(
    rf"^\W{{0,3}}(?:,|/|&|(?:and|und|et|e|y|i|и)\s)\s*(?:{_SURNAME_LABELS}|{_NAME_LABELS})\b"
    rf"(?:\s*[:：]\s*|\s+[-–]\s+|\s+|$)(?P<value>.*)$", re.IGNORECASE)
"""The rest of a name label wrapped onto the next line of its cell ("NOMBRES" / "Y APELLIDOS"), with the
value after it if the line has one."""
SURNAME_LABELLED = re.compile(rf"^\W{{0,3}}(?:{_SURNAME_LABELS})(?:\s*[:：]\s*|\s+[-–]\s+|\s+)(?P<value>.+)$",
                              re.IGNORECASE)

# -- words that are never part of a person's name ------------------------------------------------

ORG_WORDS = _words("""
inc ltd llc gmbh ag corp corporation company university universität college school institute academy
technologies technology solutions group bank labs studio foundation hospital limited plc srl bv pvt
courses course bootcamp centre center
""")
"""Words that make a line an organisation's name ("AIG Welding Ltd."), never a person's (all of them are
TITLE_WORDS too)."""
TITLE_WORDS = _words("""
engineer engineering developer development manager management analyst analytics scientist science designer
design consultant intern internship student architect director officer specialist lead senior junior
principal head software data marketing sales assistant associate administrator coordinator executive
president founder cofounder co-founder ceo cto cfo coo teacher professor lecturer researcher research
nurse accountant technician programmer devops sre fullstack full-stack frontend backend web mobile product
operations support security network systems cloud machine learning ai ml phd candidate graduate
undergraduate freelance freelancer writer editor artist photographer lawyer attorney chef driver clerk
representative agent advisor adviser recruiter trainer tutor owner partner expert professional aspiring
experienced certified aspirant fresher entwickler ingenieur berater softwareentwickler
разработчик аналитик инженер менеджер программист специалист
page updated phone email e-mail address contact dear sincerely regards thank yours application
bewerbung anschreiben cover letter mobile tel telephone linkedin github website portfolio born
scholar orcid researchgate kaggle twitter instagram facebook youtube blog homepage profile
kernel embedded firmware hardware qa quality test tester testing automation game ux ui platform
infrastructure blockchain stack javascript typescript script area área sistemas departamento department
מהנדס מהנדסת מפתח מפתחת מנהל מנהלת בודק בודקת מתכנת מתכנתת יועץ יועצת אנליסט סטודנט סטודנטית תוכנה
מעצב מעצבת مهندس مهندسة مطور مطورة مدير مديرة محاسب محاسبة مصمم مصممة طالب طالبة برمجيات محلل محللة
""") | ORG_WORDS
FORM_WORDS = _words("""
surname surnames apellido apellidos nombres lastname firstname nachname vorname sobrenome cognome
nazwisko фамилия
sex gender sexo sexe geschlecht género genero пол стать male female masculino femenino masculin féminin
feminin femme homme mujer hombre männlich weiblich мъж жена мужской женский чоловіча жіноча мужчина женщина
nationality nacionalidad nationalité nationalite nacionalidade staatsangehörigkeit гражданство националност
marital status married unmarried ledig verheiratet célibataire
computer sciences studies language languages classroom lessons
""")
"""Words of a form's fields and their values ("Sex Male", "Пол Жена", "Nombres / y Apellidos"), and of
fields of study and courses ("Computer Sciences", "German Language Classroom"): never a person's name."""
NAME_PARTICLES = _words("""
van von der den de da di del della du la le bin binti binte bte bint al el ibn y e dos das do ter ten zu af av
""")
PATRONYMICS = _words("bin binti binte bte bint ibn")
"""Particles of a patronymic ("Mohamad Haziq bin Ahmad Yusri", "Nur Azlin binte Raja Muda Alam Sah"):
names that carry one are longer than others (up to 8 words) and may be printed over two lines."""
HONORIFICS = _words("mr mrs ms miss dr prof herr frau")
DEGREES = _words("""phd dphil mphil meng beng msc bsc mres mba mph llm llb cpa cfa pmp cissp frcs mrcp acca
bsn msn dnp""")
"""Degrees and post-nominals a name may be followed by without a comma ("Andrew Smith MEng")."""
CJK_NOT_NAME_ENDINGS = tuple(_words("""
简历 履历 信息 资料 经历 经验 背景 技能 总结 评价 证书 荣誉 爱好 方式 意向 概况 项目 教育 工作 学历 专业 联系
经理 工程师 总监 主管 专员 开发 设计 运营 助理 顾问 实习 分析 研究 老师 教师 产品 测试 销售 公司 大学 学院
学生 이력서 학력 경력 자기소개 소개 정보 연락처 기술 개발자 엔지니어 디자이너 회사 대학교
"""))
"""How headings, job titles and employers end in Chinese and Korean ("个人信息", "产品经理", "경력"):
a short line that ends so is not a name."""

# -- places --------------------------------------------------------------------------------------

COUNTRIES: dict[str, str] = {
    "united states": "US", "united states of america": "US", "usa": "US", "u.s.a.": "US",
    "united kingdom": "GB", "uk": "GB", "u.k.": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "great britain": "GB", "northern ireland": "GB", "ireland": "IE", "canada": "CA", "australia": "AU",
    "new zealand": "NZ", "india": "IN", "pakistan": "PK", "bangladesh": "BD", "sri lanka": "LK",
    "nepal": "NP", "myanmar": "MM", "burma": "MM", "thailand": "TH", "vietnam": "VN", "viet nam": "VN",
    "malaysia": "MY", "singapore": "SG", "indonesia": "ID", "philippines": "PH", "china": "CN",
    "hong kong": "HK", "taiwan": "TW", "japan": "JP", "korea": "KR", "south korea": "KR",
    "republic of korea": "KR", "germany": "DE", "deutschland": "DE", "austria": "AT", "österreich": "AT",
    "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "france": "FR", "belgium": "BE",
    "belgique": "BE", "netherlands": "NL", "nederland": "NL", "the netherlands": "NL",
    "luxembourg": "LU", "spain": "ES", "españa": "ES", "portugal": "PT", "italy": "IT", "italia": "IT",
    "greece": "GR", "poland": "PL", "polska": "PL", "czech republic": "CZ", "czechia": "CZ",
    "slovakia": "SK", "hungary": "HU", "romania": "RO", "bulgaria": "BG", "serbia": "RS",
    "croatia": "HR", "slovenia": "SI", "ukraine": "UA", "україна": "UA", "belarus": "BY",
    "russia": "RU", "russian federation": "RU", "россия": "RU", "kazakhstan": "KZ", "turkey": "TR",
    "türkiye": "TR", "israel": "IL", "egypt": "EG", "morocco": "MA", "nigeria": "NG", "kenya": "KE",
    "ghana": "GH", "south africa": "ZA", "ethiopia": "ET", "uganda": "UG", "tanzania": "TZ",
    "united arab emirates": "AE", "uae": "AE", "saudi arabia": "SA", "qatar": "QA", "iran": "IR",
    "brazil": "BR", "brasil": "BR", "argentina": "AR", "chile": "CL", "colombia": "CO", "peru": "PE",
    "mexico": "MX", "méxico": "MX", "sweden": "SE", "sverige": "SE", "norway": "NO", "norge": "NO",
    "denmark": "DK", "danmark": "DK", "finland": "FI", "suomi": "FI", "iceland": "IS", "estonia": "EE",
    "latvia": "LV", "lithuania": "LT", "日本": "JP", "中国": "CN", "대한민국": "KR", "한국": "KR",
    "eswatini": "SZ", "swaziland": "SZ", "zambia": "ZM", "zimbabwe": "ZW", "rwanda": "RW", "cameroon": "CM",
    "senegal": "SN", "algeria": "DZ", "tunisia": "TN", "lebanon": "LB", "iraq": "IQ", "kuwait": "KW",
    "oman": "OM", "bahrain": "BH", "ecuador": "EC", "bolivia": "BO", "venezuela": "VE", "uruguay": "UY",
    "paraguay": "PY", "guatemala": "GT", "costa rica": "CR", "dominican republic": "DO", "cambodia": "KH",
    "mongolia": "MN", "armenia": "AM", "azerbaijan": "AZ", "uzbekistan": "UZ", "afghanistan": "AF",
    "malawi": "MW", "mozambique": "MZ", "botswana": "BW", "namibia": "NA", "sudan": "SD", "cyprus": "CY",
    "malta": "MT", "albania": "AL", "moldova": "MD", "north macedonia": "MK",
}
US_STATES = _words("""
AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND
OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
""")
US_STATE_NAMES = _words("""
alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho illinois
indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri
montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont virginia washington
wisconsin wyoming
""") | {"new york", "new jersey", "new mexico", "new hampshire", "north carolina", "south carolina",
        "north dakota", "south dakota", "rhode island", "west virginia"}
"""A US state's full name, which after a comma ("Atlanta, Georgia") points to North America."""
REGIONS_OF_STATES = _words("AB BC MB NB NL NS ON PE QC SK NSW VIC QLD WA SA TAS ACT NT")
COUNTRY_RE = re.compile(
    r"(?<![\w])(?:" + "|".join(re.escape(c) for c in sorted(COUNTRIES, key=len, reverse=True)) + r")(?![\w])",
    re.IGNORECASE,
)


def _country_names() -> frozenset[str]:
    """Country names in the languages libphonenumber's geocoder carries (CLDR's names: "Mauritanie",
    "Alemania", "Tschad"), lower-cased: for "City, Country" lines only, not for names (some are given
    names: "Jordan", "Chad") nor for phone hints."""
    names: set[str] = set(COUNTRIES)
    for by_language in LOCALE_DATA.values():
        for name in by_language.values():
            if not name.startswith("*"):
                names.add(name.lower())
    return frozenset(names)


COUNTRY_NAMES = _country_names()
GENERIC_TLDS = _words("io co me tv ai ly fm to cc ws gg sh ac la im is app dev")
"""Country-code domains used worldwide for their spelling; they say nothing about the country."""

SCRIPT_REGIONS: tuple[tuple[str, str, str], ...] = (
    ("\u3040-\u30ff", "JP", "Japanese script"),
    ("\u4e00-\u9fff", "CN", "Chinese script"),  # after kana: Japanese text has Han characters too
    ("\uac00-\ud7af", "KR", "Korean script"),
    ("\u0400-\u04ff", "RU", "Cyrillic script"),
    ("\u0370-\u03ff", "GR", "Greek script"),
    ("\u0590-\u05ff", "IL", "Hebrew script"),
    ("\u0e00-\u0e7f", "TH", "Thai script"),
    ("\u067e\u0686\u0698\u06af\u06a9\u06cc", "IR", "Persian letters"),  # پ چ ژ گ ک ی: not in Arabic
    ("ğĞıİ", "TR", "Turkish letters"),  # not in Romanian or other Latin alphabets but Azerbaijani
)
LANGUAGE_REGIONS: tuple[tuple[re.Pattern[str], tuple[str, ...], str], ...] = (
    (re.compile(r"ç[ãõ]|ência\b|ões\b|\bnão\b"), ("BR", "PT"), "Portuguese text"),
)
"""A language that only a few countries speak, told by spellings no other language has ("informação",
"experiência", "formações", "não"), with those countries by population: a hint after the default region,
for a national number the default cannot read, when page 1 has LANGUAGE_MIN_HITS of them."""
LANGUAGE_MIN_HITS = 3
RTL_LETTERS = "\u05d0-\u05ea\u0620-\u064a"
"""Hebrew and Arabic letters (a character class's inside): scripts a PDF may write in visual order."""


def _country_regions() -> dict[str, str]:
    """Country name (lower-cased, any language libphonenumber's geocoder carries) -> its region code,
    for names that belong to one region only."""
    regions: dict[str, set[str]] = {}
    for region, by_language in LOCALE_DATA.items():
        for name in by_language.values():
            if not name.startswith("*"):
                regions.setdefault(name.lower(), set()).add(region)
    for name, region in COUNTRIES.items():
        regions.setdefault(name, set()).add(region)
    return {name: next(iter(found)) for name, found in regions.items() if len(found) == 1}


COUNTRY_REGIONS = _country_regions()
"""Only where a whole item of the contact block is a country ("Bogotá, Colombia", "Panamá, ..."): some
country names are also given names."""


def _places(text: str) -> dict[str, str]:
    out = {}
    for entry in text.strip().split(";"):
        region, _, names = entry.partition(":")
        out.update({name.strip().lower(): region.strip() for name in names.split(",") if name.strip()})
    return out


PLACE_REGIONS = _places("""
IN: Mumbai, New Delhi, Delhi, Bangalore, Bengaluru, Chennai, Kolkata, Pune, Ahmedabad, Noida, Gurgaon,
    Gurugram, Jaipur, Lucknow, Kochi, Navi Mumbai, Thane, Coimbatore, Indore, Bhopal, Chandigarh, Nagpur,
    Maharashtra, Karnataka, Tamil Nadu, Telangana, Kerala, Gujarat, Uttar Pradesh, West Bengal, Rajasthan,
    Andhra Pradesh, Haryana, Madhya Pradesh, Bihar, Odisha, Ghaziabad, Faridabad, Meerut, Kanpur, Agra,
    Varanasi, Patna, Ranchi, Surat, Vadodara, Rajkot, Nashik, Visakhapatnam, Vijayawada, Bhubaneswar,
    Guwahati, Dehradun, Ludhiana, Amritsar, Mysuru, Mysore, Mangaluru, Mangalore, Madurai,
    Thiruvananthapuram, Trivandrum, Jharkhand, Uttarakhand, Chhattisgarh, Assam;
PK: Karachi, Lahore, Islamabad, Rawalpindi, Faisalabad, Peshawar, Multan, Khyber Pakhtunkhwa, Sindh;
BD: Dhaka, Chittagong, Chattogram, Sylhet, Khulna, Rajshahi;
NG: Lagos, Abuja, Ibadan, Port Harcourt, Kano, Enugu, Benin City;
KE: Nairobi, Mombasa, Kisumu, Nakuru, Eldoret;
GH: Accra, Kumasi; UG: Kampala; TZ: Dar es Salaam, Dodoma; ET: Addis Ababa; RW: Kigali;
ZA: Johannesburg, Cape Town, Pretoria, Durban;
PH: Metro Manila, Quezon City, Makati, Cebu City, Davao City, Pasig, Taguig;
EG: Giza, New Cairo; VN: Hanoi, Ho Chi Minh City, Da Nang; ID: Jakarta, Surabaya, Bandung;
TR: Istanbul, İstanbul, Ankara, Izmir, İzmir; IR: Tehran, Isfahan, Shiraz, Mashhad, Tabriz;
BR: São Paulo, Sao Paulo, Rio de Janeiro, Belo Horizonte, Brasília, Curitiba, Porto Alegre, Fortaleza, Recife,
    Manaus, Campinas, Florianópolis, Goiânia, brasileiro, brasileira;
NP: Kathmandu, Lalitpur; LK: Colombo; MY: Kuala Lumpur; AE: Dubai, Abu Dhabi, Sharjah;
CO: Bogotá, Bogota, Bogotá D.C, Bogota D.C, Medellín, Medellin, Barranquilla, Bucaramanga, colombiano,
    colombiana;
MX: Ciudad de México, CDMX, Guadalajara, Monterrey, mexicano, mexicana; AR: Buenos Aires, CABA;
VE: Caracas, Maracaibo, venezolano, venezolana; EC: Quito, Guayaquil, ecuatoriano, ecuatoriana;
PE: peruano, peruana; CL: Valparaíso, Viña del Mar, chileno, chilena;
IN: Indian; PK: Pakistani; BD: Bangladeshi; NG: Nigerian; GH: Ghanaian; KE: Kenyan; EG: Egyptian;
MA: Moroccan, marocain, marocaine; SN: sénégalais, sénégalaise
""")
"""Big cities and states of countries whose national numbers a +1 default would misread ("Mumbai -
400017" with "9403141164"), and nationalities as a form prints them ("Brasileiro, Solteiro, 22 Anos",
"Nationality: Indian"; not those that also name a language, such as "Filipino" or "Turkish"): a hint
like a country's name, only as a whole item of the contact block (after its label, if any), and only
names no sizeable North American place shares ("Hyderabad" is in India and Pakistan, "Cairo" in
Georgia, "Lima" in Ohio: left out)."""
ORGANISATION_MAILBOXES = _words("""
info contact contacto contato contatti kontakt correio geral office admin administration secretaria
secretariat reception recepcion enquiries inquiries hello post hr jobs careers support sales
webmaster direccion direcao segreteria sekretariat
""")
"""Local parts of an organisation's shared mailbox ("correio@esg.ipsantarem.pt" in a school's block)."""
MAIL_PROVIDER_REGIONS: dict[str, str] = {
    "qq.com": "CN", "foxmail.com": "CN", "163.com": "CN", "126.com": "CN", "yeah.net": "CN",
    "139.com": "CN", "sina.com": "CN", "sohu.com": "CN", "aliyun.com": "CN",
    "naver.com": "KR", "daum.net": "KR", "hanmail.net": "KR", "kakao.com": "KR", "nate.com": "KR",
    "yandex.com": "RU", "rambler.ru": "RU", "rediffmail.com": "IN",
}
"""National email providers under a generic domain: their users are mostly of one country."""
WORLDWIDE_PROVIDERS = frozenset({
    "protonmail.ch", "proton.ch", "protonmail.com", "proton.me", "pm.me", "tutanota.de", "tuta.io", "gmx.net",
})
"""Email providers under a country's domain whose users live anywhere: the domain names no country."""
ACADEMIC_SLDS = _words("ac edu gov com org net co")
"""Second-level domains under a country code ("unal.edu.co", "x.com.br"): the country is meant, even
where the country code alone is generic (.co)."""
