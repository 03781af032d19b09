// Package useragent reads the browser, operating system and kind of device
// from a User-Agent header, for the agents' view of a visitor. It knows the
// browsers and crawlers that reach a support widget, not every client ever
// written: anything it does not recognise is reported empty and "unknown".
// It never fails and allocates only its answer.
package useragent

import (
	"strings"
)

// Type is the kind of device.
type Type string

const (
	Desktop Type = "desktop"
	Mobile  Type = "mobile"
	Tablet  Type = "tablet"
	Bot     Type = "bot"
	Unknown Type = "unknown"
)

// Device is what a User-Agent header says about the client. Versions are
// dotted numbers without trailing ".0" parts ("124", "17.4.1").
type Device struct {
	Browser        string
	BrowserVersion string
	OS             string
	OSVersion      string
	Type           Type
}

// maxLen bounds the part of the header that is read; real ones are shorter.
const maxLen = 1024

// Parse reads ua.
func Parse(ua string) Device {
	if len(ua) > maxLen {
		ua = ua[:maxLen]
	}
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return Device{Type: Unknown}
	}
	if d, ok := parseBot(ua); ok {
		return d
	}
	var d Device
	d.OS, d.OSVersion = parseOS(ua)
	d.Browser, d.BrowserVersion = parseBrowser(ua, d.OS)
	d.Type = deviceType(ua, d.OS)
	return d
}

// bots are crawlers, link previewers and HTTP libraries, by the token that
// names them (matched case-insensitively) and the name shown.
var bots = []struct{ token, name string }{
	{"googlebot", "Googlebot"},
	{"adsbot-google", "AdsBot-Google"},
	{"mediapartners-google", "Mediapartners-Google"},
	{"google-inspectiontool", "Google-InspectionTool"},
	{"bingbot", "Bingbot"},
	{"bingpreview", "BingPreview"},
	{"duckduckbot", "DuckDuckBot"},
	{"yandexbot", "YandexBot"},
	{"baiduspider", "Baiduspider"},
	{"applebot", "Applebot"},
	{"facebookexternalhit", "Facebook"},
	{"facebookcatalog", "Facebook"},
	{"twitterbot", "Twitterbot"},
	{"linkedinbot", "LinkedInBot"},
	{"slackbot", "Slackbot"},
	{"slack-imgproxy", "Slackbot"},
	{"discordbot", "Discordbot"},
	{"telegrambot", "TelegramBot"},
	{"whatsapp", "WhatsApp"},
	{"petalbot", "PetalBot"},
	{"ahrefsbot", "AhrefsBot"},
	{"semrushbot", "SemrushBot"},
	{"mj12bot", "MJ12bot"},
	{"dotbot", "DotBot"},
	{"gptbot", "GPTBot"},
	{"chatgpt-user", "ChatGPT-User"},
	{"oai-searchbot", "OAI-SearchBot"},
	{"claudebot", "ClaudeBot"},
	{"claude-web", "Claude-Web"},
	{"perplexitybot", "PerplexityBot"},
	{"ccbot", "CCBot"},
	{"bytespider", "Bytespider"},
	{"amazonbot", "Amazonbot"},
	{"uptimerobot", "UptimeRobot"},
	{"pingdom", "Pingdom"},
	{"headlesschrome", "Headless Chrome"},
	{"phantomjs", "PhantomJS"},
	{"curl/", "curl"},
	{"wget/", "Wget"},
	{"python-requests/", "python-requests"},
	{"python-urllib/", "Python-urllib"},
	{"aiohttp/", "aiohttp"},
	{"httpx/", "httpx"},
	{"go-http-client/", "Go-http-client"},
	{"java/", "Java"},
	{"okhttp/", "okhttp"},
	{"axios/", "axios"},
	{"node-fetch/", "node-fetch"},
	{"postmanruntime/", "PostmanRuntime"},
	{"insomnia/", "Insomnia"},
}

func parseBot(ua string) (Device, bool) {
	low := strings.ToLower(ua)
	for _, b := range bots {
		if i := strings.Index(low, b.token); i >= 0 {
			d := Device{Browser: b.name, Type: Bot}
			rest := low[i+len(b.token):]
			if !strings.HasSuffix(b.token, "/") && strings.HasPrefix(rest, "/") {
				rest = rest[1:]
			}
			d.BrowserVersion = version(rest)
			d.OS, d.OSVersion = parseOS(ua)
			return d, true
		}
	}
	// Generic crawlers that name themselves so, without a known token.
	for _, w := range []string{"bot/", "bot;", "bot)", "crawler", "spider", "scraper", "+http://", "+https://"} {
		if strings.Contains(low, w) {
			name, _, _ := strings.Cut(ua, "/")
			if strings.HasPrefix(name, "Mozilla") {
				name = ""
			}
			return Device{Browser: name, Type: Bot}, true
		}
	}
	return Device{}, false
}

// browsers are checked in order: those built on Chrome or Safari name
// themselves before the Chrome and Safari tokens they also send.
var browsers = []struct{ token, name string }{
	{"EdgiOS/", "Edge"},
	{"EdgA/", "Edge"},
	{"Edg/", "Edge"},
	{"Edge/", "Edge"}, // the EdgeHTML one, before Chromium
	{"OPiOS/", "Opera"},
	{"OPR/", "Opera"},
	{"OPT/", "Opera Touch"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"},
	{"UCBrowser/", "UC Browser"},
	{"DuckDuckGo/", "DuckDuckGo"},
	{"Brave/", "Brave"},
	{"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"Firefox/", "Firefox"},
	{"Chromium/", "Chromium"},
	{"Chrome/", "Chrome"},
}

func parseBrowser(ua, os string) (string, string) {
	for _, b := range browsers {
		if i := strings.Index(ua, b.token); i >= 0 {
			v := version(ua[i+len(b.token):])
			if b.name == "Chrome" && strings.Contains(ua, "; wv)") {
				return "Android WebView", v
			}
			return b.name, v
		}
	}
	switch {
	case strings.Contains(ua, "Trident/") || strings.Contains(ua, "MSIE "):
		if i := strings.Index(ua, "MSIE "); i >= 0 {
			return "Internet Explorer", version(ua[i+5:])
		}
		if i := strings.Index(ua, "rv:"); i >= 0 {
			return "Internet Explorer", version(ua[i+3:])
		}
		return "Internet Explorer", ""
	case strings.HasPrefix(ua, "Opera/"):
		if i := strings.Index(ua, "Version/"); i >= 0 {
			return "Opera", version(ua[i+8:])
		}
		return "Opera", version(ua[6:])
	case strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/"):
		i := strings.Index(ua, "Version/")
		return "Safari", version(ua[i+8:])
	case strings.Contains(ua, "AppleWebKit/") && (os == "iOS" || os == "macOS"):
		// An app's embedded web view (in-app browsers send no Safari token).
		return "WebKit", ""
	}
	return "", ""
}

func parseOS(ua string) (string, string) {
	switch {
	case strings.Contains(ua, "Windows Phone"):
		return "Windows Phone", versionAfter(ua, "Windows Phone ")
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad") || strings.Contains(ua, "iPod"):
		v := versionAfter(ua, "iPhone OS ")
		if v == "" {
			v = versionAfter(ua, "CPU OS ")
		}
		return "iOS", v
	case strings.Contains(ua, "Android"):
		return "Android", versionAfter(ua, "Android ")
	case strings.Contains(ua, "CrOS "):
		return "ChromeOS", ""
	case strings.Contains(ua, "Windows NT "):
		return "Windows", windowsVersions[versionAfter(ua, "Windows NT ")]
	case strings.Contains(ua, "Windows"):
		return "Windows", ""
	case strings.Contains(ua, "Mac OS X"):
		return "macOS", versionAfter(ua, "Mac OS X ")
	case strings.Contains(ua, "Macintosh"):
		return "macOS", ""
	case strings.Contains(ua, "Linux") || strings.Contains(ua, "X11"):
		return "Linux", ""
	}
	return "", ""
}

// windowsVersions names Windows by its NT version. Windows 11 still says
// 10.0, so both read as 10.
var windowsVersions = map[string]string{
	"10": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6": "Vista", "5.2": "XP", "5.1": "XP",
}

func deviceType(ua, os string) Type {
	switch {
	case strings.Contains(ua, "iPad") || strings.Contains(ua, "Tablet") || strings.Contains(ua, "Kindle") ||
		strings.Contains(ua, "Silk/"):
		return Tablet
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPod") || strings.Contains(ua, "Mobi") ||
		os == "Windows Phone":
		return Mobile
	case os == "Android":
		// Android tablets leave "Mobile" out.
		return Tablet
	case os == "Windows" || os == "macOS" || os == "Linux" || os == "ChromeOS":
		return Desktop
	}
	return Unknown
}

// versionAfter returns the version that follows token in ua.
func versionAfter(ua, token string) string {
	i := strings.Index(ua, token)
	if i < 0 {
		return ""
	}
	return version(ua[i+len(token):])
}

// version reads a dotted (or underscored) version at the start of s and
// returns it dotted, without trailing ".0" parts: "10_15_7" is "10.15.7",
// "124.0.0.0" is "124".
func version(s string) string {
	n := 0
	for n < len(s) && n < 32 && (s[n] >= '0' && s[n] <= '9' || s[n] == '.' || s[n] == '_') {
		n++
	}
	v := strings.ReplaceAll(s[:n], "_", ".")
	v = strings.Trim(v, ".")
	for strings.HasSuffix(v, ".0") {
		v = strings.TrimSuffix(v, ".0")
	}
	if strings.Contains(v, "..") {
		return ""
	}
	return v
}
