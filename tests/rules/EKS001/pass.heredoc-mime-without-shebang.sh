# No "#!" line: the here-document still holds text the script prints, not MIME parts
# (a "--//" line inside it is no boundary).
cat > /tmp/userdata.mime <<'EOF2'
--//
Content-Type: text/x-shellscript

echo extra
--//--
EOF2
/etc/eks/bootstrap.sh prod
