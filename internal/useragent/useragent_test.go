package useragent

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		ua   string
		want Device
	}{
		// Desktop browsers.
		{"Chrome on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			Device{"Chrome", "124", "Windows", "10", Desktop}},
		{"Chrome on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.122 Safari/537.36",
			Device{"Chrome", "123.0.6312.122", "macOS", "10.15.7", Desktop}},
		{"Chrome on Linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			Device{"Chrome", "120", "Linux", "", Desktop}},
		{"Chromium on Debian", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/119.0.6045.199 Chrome/119.0.6045.199 Safari/537.36",
			Device{"Chromium", "119.0.6045.199", "Linux", "", Desktop}},
		{"Chrome on ChromeOS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			Device{"Chrome", "124", "ChromeOS", "", Desktop}},
		{"Firefox on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
			Device{"Firefox", "125", "Windows", "10", Desktop}},
		{"Firefox on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:126.0) Gecko/20100101 Firefox/126.0",
			Device{"Firefox", "126", "macOS", "10.15", Desktop}},
		{"Firefox on Ubuntu", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
			Device{"Firefox", "124", "Linux", "", Desktop}},
		{"Firefox ESR on Windows 7", "Mozilla/5.0 (Windows NT 6.1; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0",
			Device{"Firefox", "115", "Windows", "7", Desktop}},
		{"Safari on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
			Device{"Safari", "17.4.1", "macOS", "10.15.7", Desktop}},
		{"Edge on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
			Device{"Edge", "124.0.2478.51", "Windows", "10", Desktop}},
		{"Edge on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
			Device{"Edge", "124", "macOS", "10.15.7", Desktop}},
		{"legacy Edge", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19582",
			Device{"Edge", "18.19582", "Windows", "10", Desktop}},
		{"Opera on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 OPR/109.0.0.0",
			Device{"Opera", "109", "Windows", "10", Desktop}},
		{"Vivaldi on Linux", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Vivaldi/6.6.3271.55",
			Device{"Vivaldi", "6.6.3271.55", "Linux", "", Desktop}},
		{"Yandex on Windows 8.1", "Mozilla/5.0 (Windows NT 6.3; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
			Device{"Yandex Browser", "24.4", "Windows", "8.1", Desktop}},
		{"IE 11", "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
			Device{"Internet Explorer", "11", "Windows", "7", Desktop}},
		{"IE 9 on Vista", "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.0; Trident/5.0)",
			Device{"Internet Explorer", "9", "Windows", "Vista", Desktop}},
		{"old Opera", "Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18",
			Device{"Opera", "12.18", "Windows", "7", Desktop}},

		// iOS.
		{"Safari on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
			Device{"Safari", "17.4.1", "iOS", "17.4.1", Mobile}},
		{"Safari on iPad", "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
			Device{"Safari", "16.6", "iOS", "16.6", Tablet}},
		{"Chrome on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
			Device{"Chrome", "124.0.6367.88", "iOS", "17.4", Mobile}},
		{"Firefox on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15",
			Device{"Firefox", "125", "iOS", "17.4", Mobile}},
		{"Edge on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/124.2478.50 Mobile/15E148 Safari/605.1.15",
			Device{"Edge", "124.2478.50", "iOS", "17.4", Mobile}},
		{"in-app web view on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/459.0.0.37.108]",
			Device{"WebKit", "", "iOS", "17.4", Mobile}},
		{"iPod", "Mozilla/5.0 (iPod touch; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6.6 Mobile/15E148 Safari/604.1",
			Device{"Safari", "15.6.6", "iOS", "15.8", Mobile}},

		// Android.
		{"Chrome on Android phone", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
			Device{"Chrome", "124", "Android", "10", Mobile}},
		{"Chrome on Pixel", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.118 Mobile Safari/537.36",
			Device{"Chrome", "123.0.6312.118", "Android", "14", Mobile}},
		{"Chrome on Android tablet", "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			Device{"Chrome", "124", "Android", "13", Tablet}},
		{"Firefox on Android", "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
			Device{"Firefox", "125", "Android", "14", Mobile}},
		{"Firefox on Android tablet", "Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
			Device{"Firefox", "125", "Android", "13", Tablet}},
		{"Samsung Internet", "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
			Device{"Samsung Internet", "24", "Android", "14", Mobile}},
		{"Edge on Android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64",
			Device{"Edge", "124.0.2478.64", "Android", "10", Mobile}},
		{"Opera on Android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36 OPR/81.1.4292.78446",
			Device{"Opera", "81.1.4292.78446", "Android", "10", Mobile}},
		{"Android WebView", "Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/123.0.6312.118 Mobile Safari/537.36",
			Device{"Android WebView", "123.0.6312.118", "Android", "13", Mobile}},
		{"Kindle Fire", "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/124.2.1 like Chrome/124.0.6367.82 Safari/537.36",
			Device{"Chrome", "124.0.6367.82", "Android", "9", Tablet}},
		{"Windows Phone", "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
			Device{"Edge", "15.15063", "Windows Phone", "10", Mobile}},

		// Crawlers, previewers and scripts.
		{"Googlebot", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			Device{"Googlebot", "2.1", "", "", Bot}},
		{"Googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
			Device{"Googlebot", "2.1", "Android", "6.0.1", Bot}},
		{"Bingbot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
			Device{"Bingbot", "2", "", "", Bot}},
		{"DuckDuckBot", "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", Device{"DuckDuckBot", "1.1", "", "", Bot}},
		{"Applebot", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
			Device{"Applebot", "0.1", "macOS", "10.15.5", Bot}},
		{"Facebook preview", "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", Device{"Facebook", "1.1", "", "", Bot}},
		{"Slack preview", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", Device{"Slackbot", "", "", "", Bot}},
		{"GPTBot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", Device{"GPTBot", "1.2", "", "", Bot}},
		{"YandexBot", "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", Device{"YandexBot", "3", "", "", Bot}},
		{"headless Chrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36",
			Device{"Headless Chrome", "120.0.6099.109", "Linux", "", Bot}},
		{"curl", "curl/8.5.0", Device{"curl", "8.5", "", "", Bot}},
		{"Wget", "Wget/1.21.4", Device{"Wget", "1.21.4", "", "", Bot}},
		{"python-requests", "python-requests/2.31.0", Device{"python-requests", "2.31", "", "", Bot}},
		{"Go", "Go-http-client/1.1", Device{"Go-http-client", "1.1", "", "", Bot}},
		{"unknown crawler", "ExampleCrawler/3.2 (+https://crawler.example/about)", Device{"ExampleCrawler", "", "", "", Bot}},

		// Nothing to go on.
		{"empty", "", Device{Type: Unknown}},
		{"spaces", "   ", Device{Type: Unknown}},
		{"garbage", "asdf qwer zxcv", Device{Type: Unknown}},
		{"bare Mozilla", "Mozilla/5.0", Device{Type: Unknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse(tt.ua); got != tt.want {
				t.Errorf("Parse(%q)\n got  %+v\n want %+v", tt.ua, got, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for in, want := range map[string]string{
		"124.0.0.0 Safari": "124", "10_15_7)": "10.15.7", "17.4.1": "17.4.1", "2.0;": "2", "0.1": "0.1",
		"": "", "abc": "", "1..2": "", ".5": "5", "125.0": "125", "10.0": "10", "6.0.1": "6.0.1",
	} {
		if got := version(in); got != want {
			t.Errorf("version(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1")
	f.Add("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	f.Add("Chrome/")
	f.Add("MSIE ")
	f.Add("Opera/")
	f.Add(strings.Repeat("Chrome/1.", 300))
	f.Fuzz(func(t *testing.T, ua string) {
		d := Parse(ua)
		switch d.Type {
		case Desktop, Mobile, Tablet, Bot, Unknown:
		default:
			t.Fatalf("type %q", d.Type)
		}
		for _, s := range []string{d.BrowserVersion, d.OSVersion} {
			if len(s) > 32 || strings.Trim(s, "0123456789.") != "" {
				t.Fatalf("version %q", s)
			}
		}
		if len(d.Browser) > maxLen || (utf8.ValidString(ua) && !utf8.ValidString(d.Browser)) {
			t.Fatalf("browser %q", d.Browser)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	uas := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	}
	for i := 0; b.Loop(); i++ {
		Parse(uas[i%len(uas)])
	}
}
