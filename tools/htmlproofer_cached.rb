# htmlproofer (Debian's ruby-html-proofer 3.19), with each page parsed once and its ids indexed once.
#
#   ruby tools/htmlproofer_cached.rb SITE_DIR BASEURL IGNORE_REGEX
#
# html-proofer 3.19 re-reads and re-parses the target page for every link to `page.html#anchor`, then searches it
# with an XPath that calls back into Ruby for every element: on our pages (MBs of notebook output) that took minutes.
# Here both are cached per file; what is checked, and how an anchor is matched (an element's id or name, exact),
# are html-proofer's own. Options are those tools/check_site.sh passed on the command line.
require 'html-proofer'
require 'set'

module HTMLProofer
  module Utils
    PARSED = {}
    alias_method :parse_uncached, :create_nokogiri
    def create_nokogiri(path)
      return parse_uncached(path) unless File.file?(path)
      PARSED[File.expand_path(path)] ||= parse_uncached(path)
    end
  end
end

class LinkCheck
  ANCHORS = {}.compare_by_identity
  def hash_exists?(html, href_hash)
    ids = ANCHORS[html] ||= html.xpath('//*[@id or @name]').flat_map { |e| [e['id'], e['name']] }.compact.to_set
    decoded = Addressable::URI.unescape(href_hash)
    [href_hash, decoded].include?('top') || ids.include?(href_hash) || ids.include?(decoded)
  end
end

site, baseurl, ignore = ARGV
HTMLProofer.check_directory(site, disable_external: true, allow_hash_href: true, empty_alt_ignore: true,
                            url_swap: { Regexp.new("^#{baseurl}") => '/' }, file_ignore: [Regexp.new(ignore)]).run
